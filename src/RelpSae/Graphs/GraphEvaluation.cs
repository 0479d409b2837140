namespace RelpSae.Graphs;

/// <summary>
/// A prompt's attribution graph evaluated: the graph of its method, pruned, with its scores; the graph of every measured
/// method over the same nodes, the first graph's kept edges measured against patching (<see cref="MeasuredEdges"/>), and
/// each measured method's faithfulness curve (<see cref="GraphFaithfulness"/>). With no method measured, neither.
/// </summary>
public sealed class GraphEvaluation
{
    public required AttributionGraph Graph { get; init; }
    public required GraphPruning Pruning { get; init; }
    public required GraphScores Scores { get; init; }
    public required GraphScores PrunedScores { get; init; }
    public MeasuredEdges? Measured { get; init; }
    public IReadOnlyList<GraphFaithfulness> Faithfulness { get; init; } = [];

    /// <param name="measuredMethods">The methods measured, the graph's own among them (or none).</param>
    /// <param name="build">Builds a method's graph of <paramref name="setup"/> (<see cref="GraphMethod.Build"/>, perhaps with progress),
    /// keeping the feature nodes of the graph given (null for the first: its own most influential), so that methods compare edge by edge.</param>
    public static GraphEvaluation Run(GraphSetup setup, string graphMethod, IReadOnlyList<string> measuredMethods, double nodeThreshold, double edgeThreshold,
        IReadOnlyList<double> curveThresholds, Func<string, AttributionGraph?, AttributionGraph> build)
    {
        var graph = build(graphMethod, null);
        var pruning = GraphPruning.Prune(graph, nodeThreshold, edgeThreshold);
        if (measuredMethods.Count == 0)
            return new GraphEvaluation { Graph = graph, Pruning = pruning, Scores = GraphScores.Of(graph), PrunedScores = GraphScores.Of(graph, pruning.EdgeMask) };
        var graphs = new List<AttributionGraph> { graph };
        graphs.AddRange(measuredMethods.Where(m => m != graphMethod).Select(m => build(m, graph)));
        return new GraphEvaluation
        {
            Graph = graph, Pruning = pruning, Scores = GraphScores.Of(graph), PrunedScores = GraphScores.Of(graph, pruning.EdgeMask),
            Measured = MeasuredEdges.Measure(setup, graphs, pruning),
            Faithfulness = [.. graphs.Select(g => GraphFaithfulness.Measure(setup, g, curveThresholds, edgeThreshold))],
        };
    }
}
