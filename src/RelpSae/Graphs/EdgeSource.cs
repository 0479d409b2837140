namespace RelpSae.Graphs;

/// <summary>What an attribution graph's source node is: a token's embedding, a transcoder feature, or a layer's error node.</summary>
public enum SourceKind { Token, Feature, Error }

/// <summary>
/// A source node of an attribution graph: a vector written at one hook and position, which <see cref="DirectEffects"/>
/// removes. A token is its embedding row at hook_embed (GPT-2's position embedding stays); a feature at layer L is its
/// activation times its decoder row at that layer's transcoder output hook; an error node is that layer's ε = y − ŷ there.
/// </summary>
public sealed record EdgeSource(SourceKind Kind, int Position, int Layer = -1, int Feature = -1)
{
    public static EdgeSource ForToken(int position) => new(SourceKind.Token, position);

    public static EdgeSource ForFeature(int layer, int position, int feature) => new(SourceKind.Feature, position, layer, feature);

    public static EdgeSource ForError(int layer, int position) => new(SourceKind.Error, position, layer);

    /// <summary>The first layer whose blocks the removal can change: a token's reaches block 0, a layer's output the next block.</summary>
    internal int FirstBlock => Kind == SourceKind.Token ? 0 : Layer;

    public override string ToString() => Kind switch
    {
        SourceKind.Token => $"token@{Position}",
        SourceKind.Feature => $"feature L{Layer}#{Feature}@{Position}",
        _ => $"error L{Layer}@{Position}",
    };
}
