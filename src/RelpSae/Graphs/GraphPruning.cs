namespace RelpSae.Graphs;

/// <summary>
/// circuit-tracer's prune_graph: nodes kept while their influence on the logits (probability-weighted) makes up
/// <paramref name="nodeThreshold"/> of the total, embeddings and logits always; edges among them kept while their score
/// (normalised weight × the influence of their target, logit weight included) makes up <paramref name="edgeThreshold"/>;
/// then, until nothing changes, feature and error nodes without a kept outgoing edge and features without a kept
/// incoming one are dropped with their edges. <see cref="CumulativeScores"/>: each node's share of the influence
/// reached by the nodes at least as influential (circuit-tracer's node "influence" in graph files).
/// </summary>
public sealed class GraphPruning
{
    public required bool[] NodeMask { get; init; }
    /// <summary>[n × n] as the adjacency: target × source.</summary>
    public required bool[] EdgeMask { get; init; }
    public required double[] CumulativeScores { get; init; }

    public int Nodes => NodeMask.Count(k => k);
    public int Edges => EdgeMask.Count(k => k);

    /// <summary>The logits' probabilities at their nodes, zero elsewhere.</summary>
    public static double[] LogitWeights(AttributionGraph graph)
    {
        var weights = new double[graph.Count];
        for (int k = 0; k < graph.LogitCount; k++) weights[graph.LogitStart + k] = graph.LogitProbabilities[k];
        return weights;
    }

    public static GraphPruning Prune(AttributionGraph graph, double nodeThreshold, double edgeThreshold)
    {
        foreach (var (name, value) in new[] { ("node", nodeThreshold), ("edge", edgeThreshold) })
            if (!(value > 0 && value <= 1)) throw new RelpSaeException($"the {name} threshold must lie in (0, 1], got {value}");
        int n = graph.Count, nFeat = graph.FeatureCount, tokStart = graph.TokenStart;
        var weights = LogitWeights(graph);
        var influence = GraphInfluence.Influence(GraphInfluence.Normalize(graph.Adjacency, n), n, weights);
        double nodeCut = GraphInfluence.FindThreshold(influence, nodeThreshold);
        var nodeMask = new bool[n];
        for (int i = 0; i < n; i++) nodeMask[i] = i >= tokStart || influence[i] >= nodeCut;

        var pruned = (float[])graph.Adjacency.Clone();
        for (int t = 0; t < n; t++)
            for (int s = 0; s < n; s++)
                if (!nodeMask[t] || !nodeMask[s]) pruned[(long)t * n + s] = 0;
        var normalized = GraphInfluence.Normalize(pruned, n);
        var targetInfluence = GraphInfluence.Influence(normalized, n, weights);
        for (int i = 0; i < n; i++) targetInfluence[i] += weights[i];
        var scores = new float[normalized.Length];
        for (int t = 0; t < n; t++)
            for (int s = 0; s < n; s++) scores[(long)t * n + s] = (float)(normalized[(long)t * n + s] * targetInfluence[t]);
        float edgeCut = GraphInfluence.FindThreshold(scores, edgeThreshold);
        var edgeMask = new bool[scores.Length];
        for (long e = 0; e < scores.Length; e++) edgeMask[e] = scores[e] > 0 && scores[e] >= edgeCut;

        // Drop feature and error nodes with no kept outgoing edge and features with no kept incoming one, until none is left.
        for (bool changed = true; changed;)
        {
            changed = false;
            for (int i = 0; i < tokStart; i++)
            {
                if (!nodeMask[i]) continue;
                bool outgoing = false, incoming = i >= nFeat;
                for (int t = 0; t < n && !outgoing; t++) outgoing = edgeMask[(long)t * n + i];
                for (int s = 0; s < n && !incoming; s++) incoming = edgeMask[(long)i * n + s];
                if (outgoing && incoming) continue;
                nodeMask[i] = false;
                changed = true;
                for (int k = 0; k < n; k++) edgeMask[(long)i * n + k] = edgeMask[(long)k * n + i] = false;
            }
        }

        var order = Enumerable.Range(0, n).OrderByDescending(i => influence[i]).ToArray();
        double total = influence.Sum(), cumulative = 0;
        var cumulativeScores = new double[n];
        foreach (var i in order) cumulativeScores[i] = (cumulative += influence[i]) / total;
        return new GraphPruning { NodeMask = nodeMask, EdgeMask = edgeMask, CumulativeScores = cumulativeScores };
    }
}
