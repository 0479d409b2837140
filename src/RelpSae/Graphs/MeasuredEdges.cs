using RelpSae.Attribution;

namespace RelpSae.Graphs;

/// <summary>
/// A pruned graph's kept edges measured against patching: each edge's true direct effect (<see cref="DirectEffects"/>)
/// beside its weight under every method's graph of the same nodes, and their agreement (<see cref="EdgeAgreement"/>).
/// Graph nodes map to the measurement's sources and targets one to one: a feature, an error node or an embedding is a
/// source; a feature's pre-activation or a logit, demeaned as the graph's logit directions are, a target.
/// </summary>
public sealed class MeasuredEdges
{
    private readonly Dictionary<(int Target, int Source), double> truth;

    private MeasuredEdges(Dictionary<(int, int), double> truth, EdgeSet edges, EdgeAgreement agreement)
    {
        this.truth = truth;
        Edges = edges;
        Agreement = agreement;
    }

    public const string FileName = "results.json";

    /// <summary>The measured edges, their source ids the graph's node numbers.</summary>
    public EdgeSet Edges { get; }

    public EdgeAgreement Agreement { get; }

    /// <summary>Writes results.json (the prompt, the graph's method, the edges block and the faithfulness curves), appearing whole; returns its path.</summary>
    public string Write(string path, string prompt, string graphMethod, IReadOnlyList<GraphFaithfulness> faithfulness)
    {
        Formats.AtomicFile.WriteText(path, Reports.ProtocolOutput.Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("prompt", prompt);
            w.WriteString("graph_method", graphMethod);
            w.WriteNumber("edges_measured", Agreement.Edges);
            EdgeAgreementJson.Write(w, Agreement);
            GraphFaithfulnessJson.Write(w, faithfulness);
            w.WriteEndObject();
        }));
        return path;
    }

    /// <summary>The true direct effect of the kept edge source → target; null for an edge not measured.</summary>
    public double? Truth(int target, int source) => truth.TryGetValue((target, source), out double e) ? e : null;

    /// <param name="graphs">The graph per method, all of <paramref name="setup"/>'s nodes; the first one's kept edges are measured.</param>
    public static MeasuredEdges Measure(GraphSetup setup, IReadOnlyList<AttributionGraph> graphs, GraphPruning pruning, int resamples = 1000)
    {
        var graph = graphs[0];
        // Edges are compared by position in the adjacency: every graph must hold the first one's nodes, in its order.
        foreach (var other in graphs.Skip(1))
            if (!other.Nodes.SequenceEqual(graph.Nodes))
                throw new ArgumentException($"the {other.Method} graph has other nodes than the {graph.Method} graph whose edges are measured: build it on the same features");
        int n = graph.Count;
        var kept = new List<(int Target, int Source)>();
        for (int t = 0; t < n; t++)
            if (pruning.NodeMask[t])
                for (int s = 0; s < n; s++)
                    if (pruning.NodeMask[s] && pruning.EdgeMask[(long)t * n + s]) kept.Add((t, s));
        var sourceNodes = kept.Select(e => e.Source).Distinct().Order().ToArray();
        var targetNodes = kept.Select(e => e.Target).Distinct().Order().ToArray();
        var splices = TranscoderSplice.All(setup.Model, setup.Set, setup.Tokens);
        var effects = DirectEffects.Measure(setup.Model, setup.Tokens, splices,
            [.. sourceNodes.Select(i => Source(graph.Nodes[i]))], [.. targetNodes.Select(i => Target(graph.Nodes[i]))]);

        var sourceRow = sourceNodes.Select((node, i) => (node, i)).ToDictionary(p => p.node, p => p.i);
        var targetColumn = targetNodes.Select((node, i) => (node, i)).ToDictionary(p => p.node, p => p.i);
        var truth = kept.ToDictionary(e => e, e => effects[sourceRow[e.Source], targetColumn[e.Target]]);
        var edges = new EdgeSet(
            [.. kept.Select(e => EdgeTypes.Of(effects.Sources[sourceRow[e.Source]], effects.Targets[targetColumn[e.Target]]))],
            [.. kept.Select(e => e.Source)],
            [.. kept.Select(e => truth[e])],
            graphs.ToDictionary(g => g.Method, g => kept.Select(e => (double)g.Edge(e.Target, e.Source)).ToArray()));
        return new MeasuredEdges(truth, edges, EdgeAgreement.Measure(edges, resamples));
    }

    private static EdgeSource Source(GraphNode node) => node.Kind switch
    {
        GraphNodeKind.Feature => EdgeSource.ForFeature(node.Layer, node.Position, node.Index),
        GraphNodeKind.Error => EdgeSource.ForError(node.Layer, node.Position),
        GraphNodeKind.Embedding => EdgeSource.ForToken(node.Position),
        _ => throw new ArgumentException($"a logit node is never an edge's source: {node}"),
    };

    private static EdgeTarget Target(GraphNode node) => node.Kind switch
    {
        GraphNodeKind.Feature => EdgeTarget.FeatureInput(node.Layer, node.Position, node.Index),
        GraphNodeKind.Logit => EdgeTarget.DemeanedLogit(node.Position, node.Index),
        _ => throw new ArgumentException($"only features and logits are edge targets: {node}"),
    };
}
