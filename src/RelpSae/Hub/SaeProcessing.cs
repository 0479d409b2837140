namespace RelpSae.Hub;

/// <summary>How the model must be processed for an SAE's activations to match its training run (as SAELens
/// loads it through TransformerLens): centred writing weights, and a BOS token before every prompt.</summary>
public sealed record SaeProcessing(bool CenterWritingWeights, bool PrependBos)
{
    public static readonly SaeProcessing None = new(false, false);

    public override string ToString() =>
        string.Join(" and ", new[] { CenterWritingWeights ? "center_writing_weights" : null, PrependBos ? "prepend_bos" : null }.OfType<string>());
}
