using RelpSae.Lrp;

namespace RelpSae.Attribution;

/// <summary>
/// One method's attribution of a metric to SAE features: scores per (position, feature), their totals
/// per feature, the error node's share, the rules in force and the time it took.
/// </summary>
public sealed record AttributionResult(
    string Method,
    PropagationRules Rules,
    int Tokens,
    int FeatureCount,
    float[] Scores,
    double[] FeatureTotals,
    double[] ErrorPerPosition,
    double Seconds)
{
    public double ErrorNode => ErrorPerPosition.Sum();

    /// <summary>Σ feature scores: with the error node, what completeness compares to the full-patch Δm.</summary>
    public double Total => FeatureTotals.Sum();

    public double Score(int position, int feature) => Scores[position * FeatureCount + feature];

    /// <summary>The k features with the largest |total score|, largest first.</summary>
    public IReadOnlyList<(int Feature, double Score)> Top(int k) =>
        Enumerable.Range(0, FeatureCount).OrderByDescending(i => Math.Abs(FeatureTotals[i])).ThenBy(i => i)
            .Take(k).Select(i => (i, FeatureTotals[i])).ToList();
}
