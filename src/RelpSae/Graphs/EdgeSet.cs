namespace RelpSae.Graphs;

/// <summary>
/// The edges to score, one entry each: its <see cref="Types"/>, the source node it leaves (<see cref="Sources"/>: any id,
/// unique across prompts — the bootstrap resamples source nodes, each with all its edges), its true direct effect
/// (<see cref="Truth"/>) and its weight under each method (<see cref="Weights"/>, method name → one weight an edge).
/// </summary>
public sealed record EdgeSet(EdgeType[] Types, int[] Sources, double[] Truth, IReadOnlyDictionary<string, double[]> Weights)
{
    public int Count => Truth.Length;

    internal void Check()
    {
        if (Types.Length != Count || Sources.Length != Count)
            throw new ArgumentException($"{Count} true effects but {Types.Length} edge types and {Sources.Length} source ids");
        foreach (var (method, weights) in Weights)
            if (weights.Length != Count) throw new ArgumentException($"method {method} gives {weights.Length} weights for {Count} edges");
    }
}
