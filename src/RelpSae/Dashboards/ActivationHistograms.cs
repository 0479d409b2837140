namespace RelpSae.Dashboards;

/// <summary>
/// Per feature, the positions it fired at (any non-zero activation: its density's numerator) and a histogram of
/// its positive activations in fixed log-spaced bins, <see cref="BinsPerDecade"/> a decade from 1e-4 to 1e4 with
/// one bin below and one above: fixed memory whatever the data, and every feature's scale fits without a
/// first pass to find its maximum.
/// </summary>
internal sealed class ActivationHistograms(int dSae)
{
    public const int BinsPerDecade = 10, LowestExponent = -4, HighestExponent = 4;

    /// <summary>Bins per feature: bin 0 below the first edge, bin i in [edge i − 1, edge i), the last at or above the last edge.</summary>
    public const int Bins = (HighestExponent - LowestExponent) * BinsPerDecade + 2;

    /// <summary>The Bins − 1 edges between bins, 10^(LowestExponent + i / BinsPerDecade).</summary>
    public static double[] Edges { get; } =
        [.. Enumerable.Range(0, Bins - 1).Select(i => Math.Pow(10, LowestExponent + (double)i / BinsPerDecade))];

    private readonly long[] _counts = new long[(long)dSae * Bins];
    private readonly long[] _nonZero = new long[dSae];

    /// <summary>Feature <paramref name="feature"/> took the non-zero <paramref name="value"/> at a position.</summary>
    public void Add(int feature, float value)
    {
        _nonZero[feature]++;
        if (value > 0) _counts[(long)feature * Bins + Bin(value)]++;
    }

    public static int Bin(float value)
    {
        double scaled = Math.Floor(Math.Log10(value) * BinsPerDecade) - LowestExponent * BinsPerDecade;
        return (int)Math.Clamp(scaled + 1, 0, Bins - 1);
    }

    public long NonZero(int feature) => _nonZero[feature];

    public long[] Counts(int feature) => _counts.AsSpan((int)((long)feature * Bins), Bins).ToArray();
}
