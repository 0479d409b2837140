namespace RelpSae.Attribution;

/// <summary>
/// Everything component patching measured on one prompt: for each component (at one position), its
/// true effect m(clean) − m(with that component set to its corrupted-run value) and each method's
/// estimate (a_clean − a_corr)·c; the time of the two shared forward passes, of each method's
/// coefficients, and of the ground truth. This raw record is what shards write and merge reads back.
/// </summary>
public sealed record ComponentEvaluation(
    int Index,
    string Prompt,
    string Metric,
    double MetricClean,
    double MetricCorrupt,
    Component[] Components,
    double[] Truth,
    IReadOnlyDictionary<string, double[]> Scores,
    IReadOnlyDictionary<string, double> Seconds,
    double ForwardSeconds,
    double TruthSeconds);
