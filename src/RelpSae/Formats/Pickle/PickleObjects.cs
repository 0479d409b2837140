namespace RelpSae.Formats.Pickle;

/// <summary>A global the unpickler allows, by its Python module and name (e.g. torch._utils._rebuild_tensor_v2).</summary>
internal sealed record PickleGlobal(string Module, string Name)
{
    public override string ToString() => $"{Module}.{Name}";
}

/// <summary>A PyTorch storage named by a persistent id: its bytes are the zip entry <c>data/Key</c>.</summary>
internal sealed record StorageRef(DType DType, string Key, long Count);

/// <summary>A strided view of a storage, as <c>_rebuild_tensor_v2</c> describes it; not yet materialised.</summary>
internal sealed record TensorRef(StorageRef Storage, long Offset, int[] Shape, long[] Stride);
