namespace RelpSae.Graphs;

/// <summary>
/// circuit-tracer's compute_graph_scores. Replacement: of the influence on the logits that reaches the embeddings and
/// error nodes, the embeddings' share (1: the tokens reach the logits through features alone). Completeness: the
/// fraction of each node's normalised inputs that are not error nodes, averaged with each node's influence plus its
/// logit weight as weights (partial credit for nodes mostly explained by features).
/// </summary>
public sealed record GraphScores(double Replacement, double Completeness)
{
    /// <summary>The scores of <paramref name="graph"/>, or of its edges that <paramref name="edgeMask"/> keeps.</summary>
    public static GraphScores Of(AttributionGraph graph, bool[]? edgeMask = null)
    {
        int n = graph.Count, errStart = graph.ErrorStart, tokStart = graph.TokenStart, logitStart = graph.LogitStart;
        var adjacency = graph.Adjacency;
        if (edgeMask is not null)
        {
            adjacency = (float[])adjacency.Clone();
            for (long e = 0; e < adjacency.Length; e++) if (!edgeMask[e]) adjacency[e] = 0;
        }
        var weights = GraphPruning.LogitWeights(graph);
        var normalized = GraphInfluence.Normalize(adjacency, n);
        var influence = GraphInfluence.Influence(normalized, n, weights);
        double tokens = influence[tokStart..logitStart].Sum(), errors = influence[errStart..tokStart].Sum();
        double weighted = 0, total = 0;
        for (int t = 0; t < n; t++)
        {
            double errorShare = 0;
            for (int j = errStart; j < tokStart; j++) errorShare += normalized[(long)t * n + j];
            double output = influence[t] + weights[t];
            weighted += (1 - errorShare) * output;
            total += output;
        }
        return new GraphScores(tokens / (tokens + errors), weighted / total);
    }
}
