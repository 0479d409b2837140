namespace RelpSae.Formats;

/// <summary>
/// A checkpoint's tensors by name, each with the file it came from. A family takes the tensors it needs
/// with the shape its config implies; what is left over (besides known buffers) is an error, so a
/// config that disagrees with the weights is caught, naming the file and the tensor.
/// </summary>
public sealed class CheckpointTensors
{
    private readonly Dictionary<string, (FloatTensor Tensor, string File)> tensors = new(StringComparer.Ordinal);
    private readonly HashSet<string> taken = new(StringComparer.Ordinal);

    public void Add(FloatTensor tensor, string file)
    {
        if (!tensors.TryAdd(tensor.Name, (tensor, file)))
            throw new RelpSaeException($"{file}: tensor '{tensor.Name}' appears twice (also in {tensors[tensor.Name].File})");
    }

    public IEnumerable<string> Names => tensors.Keys;

    public bool Contains(string name) => tensors.ContainsKey(name);

    /// <summary>The tensor <paramref name="name"/>, which must have <paramref name="shape"/> (what <paramref name="config"/> implies).</summary>
    public float[] Take(string name, string config, params int[] shape)
    {
        if (!tensors.TryGetValue(name, out var entry))
            throw new RelpSaeException($"the checkpoint lacks tensor '{name}' (shape [{string.Join(", ", shape)}] by {config})");
        if (!entry.Tensor.Shape.SequenceEqual(shape))
            throw new RelpSaeException($"{entry.File}: tensor '{name}' has shape [{string.Join(", ", entry.Tensor.Shape)}], {config} implies [{string.Join(", ", shape)}]");
        taken.Add(name);
        return entry.Tensor.Data;
    }

    /// <summary>Refuses tensors no part of the model took, except buffers such as rotary inv_freq or a causal mask.</summary>
    public void CheckAllTaken(string config, Func<string, bool> isBuffer)
    {
        foreach (var (name, entry) in tensors)
            if (!taken.Contains(name) && !isBuffer(name))
                throw new RelpSaeException($"{entry.File}: tensor '{name}' is not part of the model {config} describes");
    }
}
