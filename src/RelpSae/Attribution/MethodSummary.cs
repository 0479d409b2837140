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
    /// Statistics over the features of all prompts pooled; the intervals come from resampling prompts
    /// (the same resamples for every statistic and method). Top-k agreement is computed per prompt (a
    /// top-k set only means something within one prompt) and averaged.
    /// </summary>
    public static MethodSummary Summarize(string method, IReadOnlyList<PromptEvaluation> prompts, Bootstrap bootstrap)
    {
        double[] Pooled(Func<PromptEvaluation, double[]> pick) => prompts.SelectMany(pick).ToArray();
        double[] scores = Pooled(p => p.Scores[method]), truth = Pooled(p => p.Truth);
        var resampled = new ResampledAgreement(prompts, method);
        Estimate PerPrompt(Func<double[], double[], double> stat)
        {
            var values = prompts.Select(p => stat(p.Scores[method], p.Truth)).ToArray();
            return bootstrap.Interval(MeanIgnoringNaN(values), counts => ResampledAgreement.MeanOf(values, counts));
        }

        return new MethodSummary(
            method,
            bootstrap.Interval(Agreement.Pearson(scores, truth), resampled.Pearson),
            bootstrap.Interval(Agreement.Spearman(scores, truth), resampled.Spearman),
            PerPrompt((a, t) => Agreement.TopK(a, t, 5)),
            PerPrompt((a, t) => Agreement.TopK(a, t, 10)),
            bootstrap.Interval(Agreement.SignAgreement(scores, truth), resampled.SignAgreement),
            bootstrap.Interval(Agreement.RelativeError(scores, truth), resampled.RelativeError),
            MeanIgnoringNaN(prompts.Select(p => Agreement.Pearson(p.Scores[method], p.Truth))),
            prompts.Count == 0 ? double.NaN : prompts.Average(p => p.Seconds[method]));
    }

    /// <summary>Every method's summary over the same resamples of <paramref name="prompts"/>.</summary>
    public static IReadOnlyList<MethodSummary> SummarizeAll(IReadOnlyList<string> methods, IReadOnlyList<PromptEvaluation> prompts,
        int resamples = 1000, int seed = 0)
    {
        var bootstrap = new Bootstrap(prompts.Count, resamples, seed);
        return methods.Select(m => Summarize(m, prompts, bootstrap)).ToList();
    }

    private static double MeanIgnoringNaN(IEnumerable<double> values)
    {
        double sum = 0;
        int n = 0;
        foreach (var v in values)
            if (!double.IsNaN(v)) { sum += v; n++; }
        return n == 0 ? double.NaN : sum / n;
    }
}
