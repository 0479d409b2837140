namespace RelpSae.Attribution;

/// <summary>
/// One method's circuit curves on one prompt: the metric of the model (no node ablated), of the empty
/// circuit (every node ablated), and at each n of the grid with the top-n nodes kept (the rest ablated)
/// and with the top-n removed (the rest kept). Seconds: the node scores, and the one batched ablation pass.
/// </summary>
public sealed record CircuitCurve(double Model, double Empty, double[] Kept, double[] Removed, double ScoreSeconds, double AblationSeconds);

/// <summary>Circuit evaluation of one prompt: the SAEs' hooks, the baseline, its node count, the n grid and each method's curves.</summary>
public sealed record CircuitEvaluation(int Index, string Prompt, string Metric, string Baseline, string[] Hooks, bool PerPosition, int Nodes, int[] Grid,
    IReadOnlyDictionary<string, CircuitCurve> Curves, double SpliceSeconds)
{
    /// <summary>Circuit sizes 1, 2, 4, … below the node count, then the node count itself (every node).</summary>
    public static int[] GridFor(int nodes)
    {
        if (nodes <= 0) throw new ArgumentOutOfRangeException(nameof(nodes), "a circuit needs at least one node");
        var grid = new List<int>();
        for (long n = 1; n < nodes; n *= 2) grid.Add((int)n);
        grid.Add(nodes);
        return [.. grid];
    }
}
