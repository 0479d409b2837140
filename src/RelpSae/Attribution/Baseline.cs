namespace RelpSae.Attribution;

public enum BaselineKind { Zero, Mean, Corrupt }

/// <summary>
/// What each feature is patched to: zero (every feature and the error off), each feature's mean over a
/// dataset (error off), or the features and error of a corrupted prompt of the same token length.
/// </summary>
public sealed record Baseline(BaselineKind Kind, int[]? CorruptTokens = null, float[]? FeatureMeans = null)
{
    public static readonly Baseline Zero = new(BaselineKind.Zero);

    public static Baseline Mean(float[] featureMeans) => new(BaselineKind.Mean, FeatureMeans: featureMeans);

    public static Baseline Corrupt(int[] tokens) => new(BaselineKind.Corrupt, CorruptTokens: tokens);

    public override string ToString() => Kind.ToString().ToLowerInvariant();
}
