namespace RelpSae.Attribution;

/// <summary>How faithful one method was over a prompt set: pooled statistics with bootstrap intervals.</summary>
public sealed record MethodSummary(
    string Name,
    Estimate Pearson,
    Estimate Spearman,
    Estimate Top5,
    Estimate Top10,
    Estimate SignAgreement,
    Estimate RelativeError,
    double MeanPromptPearson,
    double SecondsPerPrompt)
{
    /// <summary>
    /// Statistics over the features of all prompts pooled; the intervals come from resampling prompts.
    /// Top-k agreement is computed per prompt (a top-k set only means something within one prompt) and averaged.
    /// </summary>
    public static MethodSummary Summarize(string method, IReadOnlyList<PromptEvaluation> prompts, int resamples = 1000, int seed = 0)
    {
        Estimate Pooled(Func<double[], double[], double> stat) =>
            Bootstrap.OverPrompts(prompts, sample => stat(Concat(sample, p => p.Scores[method]), Concat(sample, p => p.Truth)), resamples, seed: seed);
        Estimate PerPrompt(Func<double[], double[], double> stat) =>
            Bootstrap.OverPrompts(prompts, sample => MeanIgnoringNaN(sample.Select(p => stat(p.Scores[method], p.Truth))), resamples, seed: seed);

        return new MethodSummary(
            method,
            Pooled((a, t) => Agreement.Pearson(a, t)),
            Pooled((a, t) => Agreement.Spearman(a, t)),
            PerPrompt((a, t) => Agreement.TopK(a, t, 5)),
            PerPrompt((a, t) => Agreement.TopK(a, t, 10)),
            Pooled((a, t) => Agreement.SignAgreement(a, t)),
            Pooled((a, t) => Agreement.RelativeError(a, t)),
            MeanIgnoringNaN(prompts.Select(p => Agreement.Pearson(p.Scores[method], p.Truth))),
            prompts.Count == 0 ? double.NaN : prompts.Average(p => p.Seconds[method]));
    }

    private static double[] Concat(IReadOnlyList<PromptEvaluation> prompts, Func<PromptEvaluation, double[]> pick) =>
        prompts.SelectMany(pick).ToArray();

    private static double MeanIgnoringNaN(IEnumerable<double> values)
    {
        double sum = 0;
        int n = 0;
        foreach (var v in values)
            if (!double.IsNaN(v)) { sum += v; n++; }
        return n == 0 ? double.NaN : sum / n;
    }
}
