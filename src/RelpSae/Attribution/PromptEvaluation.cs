namespace RelpSae.Attribution;

/// <summary>
/// Everything measured on one prompt: for each feature that was active in the clean or the baseline
/// run, its true effect (m(clean) − m(with that feature patched to its baseline value), the sign
/// convention of the attribution scores) and each method's score, plus the time each took. This raw
/// record is what shards write, so merging shards recomputes exactly what one run would have.
/// </summary>
public sealed record PromptEvaluation(
    int Index,
    string Prompt,
    string Metric,
    double MetricClean,
    double MetricBaseline,
    int[] Features,
    double[] Truth,
    IReadOnlyDictionary<string, double[]> Scores,
    IReadOnlyDictionary<string, double> Seconds,
    double TruthSeconds);
