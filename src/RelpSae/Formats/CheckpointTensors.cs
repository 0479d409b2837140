namespace RelpSae.Formats;

/// <summary>
/// A checkpoint's tensors by name, each with the file it came from, read only when a family takes it: the
/// name, the dtype and the shape its config implies are checked first, so a config that disagrees with the
/// weights is refused before a byte of that tensor is converted, naming the file and the tensor. What is
/// left over (besides known buffers) is an error too, and is never read.
/// </summary>
public sealed class CheckpointTensors : IDisposable
{
    private readonly Dictionary<string, (TensorHeader Header, string File, Func<FloatTensor> Read)> tensors = new(StringComparer.Ordinal);
    private readonly HashSet<string> taken = new(StringComparer.Ordinal);
    private readonly List<IDisposable> files = [];

    /// <summary>A tensor to be read by <paramref name="read"/> once taken.</summary>
    public void Add(TensorHeader header, string file, Func<FloatTensor> read)
    {
        if (!tensors.TryAdd(header.Name, (header, file, read)))
            throw new RelpSaeException($"{file}: tensor '{header.Name}' appears twice (also in {tensors[header.Name].File})");
    }

    /// <summary>A tensor already read (a pickled checkpoint is read whole).</summary>
    public void Add(FloatTensor tensor, string file) => Add(new TensorHeader(tensor.Name, tensor.Shape, DType.F32), file, () => tensor);

    /// <summary>Keeps a file open until the weights are taken.</summary>
    internal void Hold(IDisposable file) => files.Add(file);

    public IEnumerable<string> Names => tensors.Keys;

    /// <summary>Every tensor's name, shape and stored dtype, from the files' headers alone.</summary>
    public IEnumerable<TensorHeader> Headers => tensors.Values.Select(t => t.Header);

    public bool Contains(string name) => tensors.ContainsKey(name);

    /// <summary>The tensor <paramref name="name"/>, which must be floating point of <paramref name="shape"/> (what <paramref name="config"/> implies).</summary>
    public float[] Take(string name, string config, params int[] shape)
    {
        if (!tensors.TryGetValue(name, out var entry))
            throw new RelpSaeException($"the checkpoint lacks tensor '{name}' (shape [{string.Join(", ", shape)}] by {config})");
        if (!entry.Header.DType.IsFloat())
            throw new RelpSaeException($"{entry.File}: tensor '{name}' is {entry.Header.DType}; weights must be floating point (F16, BF16, F32 or F64)");
        if (!entry.Header.Shape.SequenceEqual(shape))
            throw new RelpSaeException($"{entry.File}: tensor '{name}' has shape [{string.Join(", ", entry.Header.Shape)}], {config} implies [{string.Join(", ", shape)}]");
        taken.Add(name);
        return entry.Read().Data;
    }

    /// <summary>
    /// Every block's parameters, <paramref name="layer"/>(its name prefix, <paramref name="prefix"/>N.) for N = 0..count − 1,
    /// after the count is checked (<see cref="CheckLayers"/>).
    /// </summary>
    public T[] Layers<T>(string prefix, int count, string key, string config, Func<string, T> layer)
    {
        CheckLayers(prefix, count, key, config);
        var layers = new T[count];
        for (int l = 0; l < count; l++) layers[l] = layer($"{prefix}{l}.");
        return layers;
    }

    /// <summary>The output head [V × d]: <paramref name="name"/> where the checkpoint stores it (an untied one must; a tied one may keep a copy), else the tied <paramref name="embedding"/>.</summary>
    public float[] Head(string name, float[] embedding, bool tied, string config, int vocab, int d) =>
        tied && !Contains(name) ? embedding : Take(name, config, vocab, d);

    /// <summary>
    /// The number of blocks the names hold (<paramref name="prefix"/>N.…) must be the config's: checked before
    /// any tensor is read, since a config that overstates it would otherwise read every layer first.
    /// </summary>
    public void CheckLayers(string prefix, int layers, string key, string config)
    {
        long held = 0;
        foreach (var name in tensors.Keys.Where(n => n.StartsWith(prefix, StringComparison.Ordinal)))
        {
            var digits = name.AsSpan(prefix.Length);
            int end = digits.IndexOf('.');
            if (end > 0 && long.TryParse(digits[..end], out long l)) held = Math.Max(held, Math.Min(l, int.MaxValue) + 1);
        }
        if (held != layers)
            throw new RelpSaeException($"{config}: {key} is {layers} but the checkpoint holds {held} layers ({prefix}N)");
    }

    /// <summary>Refuses tensors no part of the model took, except buffers such as rotary inv_freq or a causal mask.</summary>
    public void CheckAllTaken(string config, Func<string, bool> isBuffer)
    {
        foreach (var (name, entry) in tensors)
            if (!taken.Contains(name) && !isBuffer(name))
                throw new RelpSaeException($"{entry.File}: tensor '{name}' is not part of the model {config} describes");
    }

    public void Dispose()
    {
        foreach (var file in files) file.Dispose();
        files.Clear();
    }
}
