namespace RelpSae.Formats.Pickle;

/// <summary>
/// The only Python globals a state dict needs. Nothing outside this list is ever resolved, and the
/// "calls" below build plain data (dicts, tensor views) instead of running anything.
/// </summary>
internal static class PickleAllowList
{
    private static readonly PickleGlobal OrderedDict = new("collections", "OrderedDict");
    private static readonly PickleGlobal RebuildTensor = new("torch._utils", "_rebuild_tensor_v2");
    private static readonly PickleGlobal RebuildParameter = new("torch._utils", "_rebuild_parameter");

    /// <summary>Legacy typed-storage classes; PyTorch still writes these names in persistent ids.</summary>
    private static readonly Dictionary<string, DType> Storages = new()
    {
        ["FloatStorage"] = DType.F32, ["HalfStorage"] = DType.F16, ["BFloat16Storage"] = DType.BF16,
        ["DoubleStorage"] = DType.F64, ["LongStorage"] = DType.I64, ["IntStorage"] = DType.I32,
        ["ShortStorage"] = DType.I16, ["CharStorage"] = DType.I8, ["ByteStorage"] = DType.U8,
        ["BoolStorage"] = DType.BOOL,
    };

    public static PickleGlobal Resolve(string module, string name, string file)
    {
        var global = new PickleGlobal(module, name);
        bool allowed = global == OrderedDict || global == RebuildTensor || global == RebuildParameter
            || (module == "torch" && Storages.ContainsKey(name));
        return allowed ? global : throw new RelpSaeException($"pickle global {module}.{name} is not allowed in {file}");
    }

    public static DType? StorageDType(PickleGlobal global) =>
        global.Module == "torch" && Storages.TryGetValue(global.Name, out var dtype) ? dtype : null;

    /// <summary>What REDUCE means for an allowed callable: always a data structure, never code.</summary>
    public static object Call(PickleGlobal callable, object?[] args, string file)
    {
        if (callable == OrderedDict && args.Length == 0)
            return new OrderedDictionary<object, object?>(PickleKeyComparer.Instance);
        if (callable == RebuildTensor && args.Length is 6 or 7)
            return Tensor(args, file);
        if (callable == RebuildParameter && args.Length == 3 && args[0] is TensorRef data)
            return data;
        throw new RelpSaeException($"pickle calls {callable} with {args.Length} unexpected arguments in {file}");
    }

    // _rebuild_tensor_v2(storage, storage_offset, size, stride, requires_grad, backward_hooks[, metadata])
    private static TensorRef Tensor(object?[] args, string file)
    {
        if (args is not [StorageRef storage, long offset, object?[] size, object?[] stride, ..] || size.Length != stride.Length)
            throw new RelpSaeException($"pickle calls _rebuild_tensor_v2 with arguments that are not (storage, offset, size, stride, ...) in {file}");
        var shape = new int[size.Length];
        var strides = new long[size.Length];
        for (int i = 0; i < size.Length; i++)
        {
            shape[i] = size[i] is long n and >= 0 and <= int.MaxValue ? (int)n
                : throw new RelpSaeException($"pickle tensor has size element {size[i]} in {file}");
            strides[i] = stride[i] is long s and >= 0 and <= int.MaxValue ? s
                : throw new RelpSaeException($"pickle tensor has stride element {stride[i]} in {file}");
        }
        if (offset < 0 || offset > storage.Count)
            throw new RelpSaeException($"pickle tensor has storage offset {offset} outside its storage of {storage.Count} elements in {file}");
        return new TensorRef(storage, offset, shape, strides);
    }
}
