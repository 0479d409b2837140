using RelpSae.Numerics;

namespace RelpSae.Formats;

/// <summary>
/// A checkpoint's tensors by name, each with the file it came from, read only when a family takes it: the
/// name, the dtype and the shape its config implies are checked first, so a config that disagrees with the
/// weights is refused before a byte of that tensor is converted, naming the file and the tensor. What is
/// left over (besides known buffers) is an error too, and is never read.
/// </summary>
public sealed class CheckpointTensors : IDisposable
{
    private readonly Dictionary<string, (TensorHeader Header, string File, Func<FloatTensor> Read, RowBandReader? Rows)> tensors = new(StringComparer.Ordinal);
    private readonly HashSet<string> taken = new(StringComparer.Ordinal);
    private readonly List<IDisposable> files = [];

    /// <summary>A tensor to be read by <paramref name="read"/> once taken, or a band of rows at a time by <paramref name="rows"/> when it has it.</summary>
    public void Add(TensorHeader header, string file, Func<FloatTensor> read, RowBandReader? rows = null)
    {
        if (!tensors.TryAdd(header.Name, (header, file, read, rows)))
            throw new RelpSaeException($"{file}: tensor '{header.Name}' appears twice (also in {tensors[header.Name].File})");
    }

    /// <summary>A tensor already read (a pickled checkpoint is read whole).</summary>
    public void Add(FloatTensor tensor, string file) => Add(new TensorHeader(tensor.Name, tensor.Shape, DType.F32), file, () => tensor);

    /// <summary>Keeps a file open until the weights are taken.</summary>
    internal void Hold(IDisposable file) => files.Add(file);

    public IEnumerable<string> Names => tensors.Keys;

    /// <summary>
    /// What the weight matrices are held as once packed: null (the default) keeps each one's stored width (bfloat16 and
    /// float16 stay 16-bit, exactly; float32 and float64 become float32); a value holds every one so (bfloat16 from a
    /// float32 file rounds).
    /// </summary>
    public PanelElement? Holding { get; set; }

    /// <summary>Every tensor's name, shape and stored dtype, from the files' headers alone.</summary>
    public IEnumerable<TensorHeader> Headers => tensors.Values.Select(t => t.Header);

    public bool Contains(string name) => tensors.ContainsKey(name);

    /// <summary>The tensor <paramref name="name"/>, which must be floating point of <paramref name="shape"/> (what <paramref name="config"/> implies).</summary>
    public float[] Take(string name, string config, params int[] shape) => Checked(name, config, shape).Read().Data;

    /// <summary>
    /// The weight matrix <paramref name="name"/> [<paramref name="rows"/> × <paramref name="cols"/>] packed as op(B) = the
    /// matrix or, <paramref name="transposed"/>, its transpose, in the width <see cref="Holding"/> chooses: read a band of
    /// rows at a time where the file allows, so it is never held whole as float32.
    /// </summary>
    public PackedMatrix TakePacked(string name, string config, int rows, int cols, bool transposed)
    {
        var entry = Checked(name, config, rows, cols);
        var read = entry.Rows ?? WholeThenBands(entry.Read().Data, cols);
        return new PackedMatrix(rows, cols, transposed, read, ElementFor(entry.Header.DType));
    }

    /// <summary>What <see cref="Holding"/> makes of a matrix stored as <paramref name="stored"/>.</summary>
    public PanelElement ElementFor(DType stored) => Holding ?? stored switch
    {
        DType.BF16 => PanelElement.BFloat16,
        DType.F16 => PanelElement.Float16,
        _ => PanelElement.Float32,
    };

    /// <summary>The element width <see cref="Holding"/> makes of the stored tensor <paramref name="name"/>.</summary>
    public PanelElement ElementFor(string name) => ElementFor(tensors[name].Header.DType);

    private static RowBandReader WholeThenBands(float[] whole, int cols) =>
        (first, count, into) => whole.AsSpan(first * cols, count * cols).CopyTo(into);

    private (TensorHeader Header, string File, Func<FloatTensor> Read, RowBandReader? Rows) Checked(string name, string config, params int[] shape)
    {
        if (!tensors.TryGetValue(name, out var entry))
            throw new RelpSaeException($"the checkpoint lacks tensor '{name}' (shape [{string.Join(", ", shape)}] by {config})");
        if (!entry.Header.DType.IsFloat())
            throw new RelpSaeException($"{entry.File}: tensor '{name}' is {entry.Header.DType}; weights must be floating point (F16, BF16, F32 or F64)");
        if (!entry.Header.Shape.SequenceEqual(shape))
            throw new RelpSaeException($"{entry.File}: tensor '{name}' has shape [{string.Join(", ", entry.Header.Shape)}], {config} implies [{string.Join(", ", shape)}]");
        taken.Add(name);
        return entry;
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

    /// <summary>Checks the tensor as <see cref="Take"/> does and counts it taken, reading nothing: a copy the model does not need (a tied head's).</summary>
    public void Skip(string name, string config, params int[] shape) => Checked(name, config, shape);

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
