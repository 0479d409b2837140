namespace RelpSae.Graphs;

/// <summary>
/// One prompt of `evaluate graphs`: its graph (of the first method) — tokens, active features, nodes and edges kept —,
/// the kept edges measured (their source ids the graph's node numbers) and each method's faithfulness curve.
/// </summary>
public sealed record GraphPromptEvaluation(int Index, string Prompt, string GraphMethod, int Tokens, int ActiveFeatures, int NodesKept, int EdgesKept,
    EdgeSet Edges, IReadOnlyList<GraphFaithfulness> Faithfulness, double Seconds)
{
    /// <summary>The record of a prompt's evaluation, which measured at least one method.</summary>
    public static GraphPromptEvaluation Of(int index, string prompt, GraphEvaluation evaluation, double seconds)
    {
        var measured = evaluation.Measured ?? throw new ArgumentException("a graph evaluation without measured edges", nameof(evaluation));
        var g = evaluation.Graph;
        return new GraphPromptEvaluation(index, prompt, g.Method, g.Tokens.Length, g.ActiveFeatures, evaluation.Pruning.Nodes, evaluation.Pruning.Edges,
            measured.Edges, evaluation.Faithfulness, seconds);
    }
}
