namespace RelpSae.Graphs;

/// <summary>
/// What the linear graph predicts when feature nodes are set to new activations (an ablation or a clamp): every edge is
/// its source's activation times a fixed per-unit effect (a_s·W_dec[s]·g), so the edge from s moves by (new − a_s)/a_s of its
/// weight, and a feature downstream, active and of slope 1 in the linear graph, moves its activation by the change of its
/// input and passes it on the same way; error nodes and embeddings stay. Each logit's input (its demeaned value) then moves by
/// Σ_s (new_s − a_s) · [J(I − J)⁻¹]_logit,s, J[t, s] = A[t, s]/a_s for a feature s and 0 for the others, with the set nodes
/// held at their new values (paths through them cut). The sum is a forward substitution in node order: a feature's edges
/// come from features of earlier layers only, which the graph lists first.
/// </summary>
public static class GraphPrediction
{
    /// <summary>Each logit's predicted change, from <paramref name="changed"/> (graph node → its new activation; features only).</summary>
    public static double[] LogitChanges(AttributionGraph graph, IReadOnlyDictionary<int, double> changed)
    {
        int n = graph.Count, features = graph.FeatureCount;
        foreach (var node in changed.Keys)
            if (node < 0 || node >= features) throw new ArgumentException($"node {node} is not a feature node of the graph (0..{features - 1})", nameof(changed));
        // Each feature's activation change; those that moved, to sum over.
        var delta = new double[features];
        var moved = new List<int>();
        for (int t = 0; t < features; t++)
        {
            delta[t] = changed.TryGetValue(t, out var value) ? value - graph.Nodes[t].Activation : InputChange(graph, t, delta, moved);
            if (delta[t] != 0) moved.Add(t);
        }
        var logits = new double[graph.LogitCount];
        for (int k = 0; k < logits.Length; k++) logits[k] = InputChange(graph, graph.LogitStart + k, delta, moved);
        return logits;
    }

    /// <summary>The change of node <paramref name="target"/>'s input from the features that moved so far.</summary>
    private static double InputChange(AttributionGraph graph, int target, double[] delta, List<int> moved)
    {
        double sum = 0;
        foreach (var s in moved) sum += graph.Edge(target, s) / (double)graph.Nodes[s].Activation * delta[s];
        return sum;
    }
}
