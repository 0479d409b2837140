namespace RelpSae.Attribution;

/// <summary>A point estimate with a bootstrap confidence interval.</summary>
public readonly record struct Estimate(double Value, double Low, double High);

/// <summary>
/// Percentile bootstrap over prompts: prompts are resampled with replacement and the statistic is
/// recomputed on the pooled features of each resample, so the interval reflects prompt-to-prompt spread.
/// </summary>
public static class Bootstrap
{
    public static Estimate OverPrompts<T>(IReadOnlyList<T> prompts, Func<IReadOnlyList<T>, double> statistic,
        int resamples = 1000, double confidence = 0.95, int seed = 0)
    {
        if (prompts.Count == 0) return new Estimate(double.NaN, double.NaN, double.NaN);
        double value = statistic(prompts);
        var rng = new Random(seed);
        var draws = new List<double>(resamples);
        var sample = new T[prompts.Count];
        for (int r = 0; r < resamples; r++)
        {
            for (int i = 0; i < sample.Length; i++) sample[i] = prompts[rng.Next(prompts.Count)];
            double s = statistic(sample);
            if (!double.IsNaN(s)) draws.Add(s);
        }
        if (draws.Count == 0) return new Estimate(value, double.NaN, double.NaN);
        draws.Sort();
        double tail = (1 - confidence) / 2;
        return new Estimate(value, Quantile(draws, tail), Quantile(draws, 1 - tail));
    }

    /// <summary>Linear-interpolated quantile of sorted values.</summary>
    internal static double Quantile(List<double> sorted, double q)
    {
        double pos = q * (sorted.Count - 1);
        int lo = (int)Math.Floor(pos), hi = Math.Min(lo + 1, sorted.Count - 1);
        return sorted[lo] + (pos - lo) * (sorted[hi] - sorted[lo]);
    }
}
