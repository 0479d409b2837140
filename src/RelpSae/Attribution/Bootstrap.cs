namespace RelpSae.Attribution;

/// <summary>A point estimate with a bootstrap confidence interval.</summary>
public readonly record struct Estimate(double Value, double Low, double High);

/// <summary>
/// Percentile bootstrap over prompts: prompts are resampled with replacement and the statistic is
/// recomputed on the pooled features of each resample, so the interval reflects prompt-to-prompt spread.
/// A resample is held as how many times each prompt was drawn, so a statistic reads it as weights
/// instead of copying and re-sorting a pooled sample.
/// </summary>
public sealed class Bootstrap
{
    private readonly int[][] _counts;

    /// <summary>Draws <paramref name="resamples"/> resamples of <paramref name="prompts"/> prompts with a seeded generator.</summary>
    public Bootstrap(int prompts, int resamples = 1000, int seed = 0)
    {
        var rng = new Random(seed);
        _counts = new int[resamples][];
        for (int r = 0; r < resamples; r++)
        {
            var counts = _counts[r] = new int[prompts];
            for (int i = 0; i < prompts; i++) counts[rng.Next(prompts)]++;
        }
    }

    /// <summary>
    /// <paramref name="value"/> (the statistic on the prompts as they are) with the percentile interval of
    /// <paramref name="statistic"/>, called once per resample with each prompt's draw count; NaN draws are left out.
    /// </summary>
    public Estimate Interval(double value, Func<int[], double> statistic, double confidence = 0.95)
    {
        if (_counts.Length == 0) return new Estimate(value, double.NaN, double.NaN);
        if (_counts[0].Length == 0) return new Estimate(double.NaN, double.NaN, double.NaN);
        var draws = new List<double>(_counts.Length);
        foreach (var counts in _counts)
        {
            double s = statistic(counts);
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
