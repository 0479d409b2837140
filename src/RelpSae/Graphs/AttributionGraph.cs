namespace RelpSae.Graphs;

/// <summary>
/// An attribution graph before pruning, laid out as circuit-tracer's Graph: nodes [features (by layer, position, index),
/// errors (by layer, then position), embeddings (by position), logits (most probable first)] and the dense adjacency
/// [target × source] of direct effects, row t holding every edge into node t (only feature and logit rows are filled).
/// <see cref="Bias"/>[t] is the constant the edges into t leave: under the frozen replacement model, t's input (a feature's
/// pre-activation, a logit's demeaned value) with every source node set to zero, so incoming edges + bias = the input.
/// </summary>
public sealed class AttributionGraph
{
    public required int[] Tokens { get; init; }
    public required int Layers { get; init; }
    public required IReadOnlyList<GraphNode> Nodes { get; init; }
    /// <summary>[n × n], row = target, column = source.</summary>
    public required float[] Adjacency { get; init; }
    public required double[] Bias { get; init; }
    /// <summary>Each node's input in the forward pass (a feature's activation, a logit's demeaned value; 0 for the others).</summary>
    public required double[] Input { get; init; }
    public required float[] LogitProbabilities { get; init; }
    /// <summary>Active features of the prompt, of which the graph keeps <see cref="FeatureCount"/>.</summary>
    public required int ActiveFeatures { get; init; }
    public required string Method { get; init; }
    /// <summary>Features of residual-stream SAEs (an error node is a hook_resid_post's) rather than of transcoders (an MLP's).</summary>
    public bool ResidualSaes { get; init; }

    public int Count => Nodes.Count;
    public int FeatureCount => Nodes.Count(n => n.Kind == GraphNodeKind.Feature);
    public int ErrorStart => FeatureCount;
    public int TokenStart => FeatureCount + Layers * Tokens.Length;
    public int LogitStart => TokenStart + Tokens.Length;
    public int LogitCount => LogitProbabilities.Length;

    public float Edge(int target, int source) => Adjacency[(long)target * Count + source];
}
