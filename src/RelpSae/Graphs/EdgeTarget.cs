namespace RelpSae.Graphs;

/// <summary>
/// What an attribution graph's target node reads: a transcoder feature's pre-activation, a token's logit, or that logit
/// less the mean of the position's logits (circuit-tracer's logit node, whose input vector is the unembedding column
/// minus the mean column).
/// </summary>
public enum TargetKind { FeatureInput, Logit, DemeanedLogit }

/// <summary>
/// A target node of an attribution graph, read from a live forward pass: a feature's input x·W_enc[:, i] + b_enc[i] at
/// its layer's transcoder input hook and its position, or the model's logit of <see cref="Index"/> (a token id) at a
/// position, as the model outputs it (after Gemma-2's final soft-cap), optionally demeaned over the vocabulary.
/// </summary>
public sealed record EdgeTarget(TargetKind Kind, int Position, int Layer, int Index)
{
    public static EdgeTarget FeatureInput(int layer, int position, int feature) => new(TargetKind.FeatureInput, position, layer, feature);

    public static EdgeTarget Logit(int position, int token) => new(TargetKind.Logit, position, -1, token);

    public static EdgeTarget DemeanedLogit(int position, int token) => new(TargetKind.DemeanedLogit, position, -1, token);

    public override string ToString() => Kind switch
    {
        TargetKind.FeatureInput => $"feature input L{Layer}#{Index}@{Position}",
        TargetKind.Logit => $"logit[{Index}]@{Position}",
        _ => $"demeaned logit[{Index}]@{Position}",
    };
}
