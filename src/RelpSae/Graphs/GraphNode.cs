namespace RelpSae.Graphs;

/// <summary>The four kinds of node of an attribution graph, in the order the graph lists them.</summary>
public enum GraphNodeKind { Feature, Error, Embedding, Logit }

/// <summary>
/// One node of an attribution graph: a transcoder feature active at (layer, position), the error node of block layer's
/// MLP at a position, the embedding of the prompt's token at a position, or a logit at the last position.
/// <see cref="Index"/> is the feature's index, or the token id (embeddings, logits), or −1 (errors); <see cref="Activation"/>
/// the feature's activation (0 for the other kinds). Logits have <see cref="Layer"/> = the number of blocks.
/// </summary>
public sealed record GraphNode(GraphNodeKind Kind, int Layer, int Position, int Index, float Activation = 0);
