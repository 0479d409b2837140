namespace RelpSae.Attribution;

/// <summary>
/// One method's circuit curves over a prompt set. Faithfulness F(n) = (m(circuit) − m(empty)) /
/// (m(model) − m(empty)) and completeness C(n), the same with the top-n removed, are ratios of sums over
/// prompts (so a prompt whose ablations barely move the metric cannot blow them up). A curve's area is
/// its trapezoid integral over log n divided by the log n range: 1 for F = 1 at every n, 0 for F = 0.
/// A faithful ranking has a large faithfulness area and a small completeness area. Intervals are
/// percentile bootstraps over prompts.
/// </summary>
public sealed record CircuitSummary(string Method, int[] Grid, double[] Faithfulness, double[] Completeness,
    Estimate FaithfulnessArea, Estimate CompletenessArea, Estimate NAt80, double ScoreSeconds, double AblationSeconds)
{
    public const double Threshold = 0.8;

    public static CircuitSummary Summarize(string method, IReadOnlyList<CircuitEvaluation> prompts, int resamples = 1000)
    {
        var grid = prompts.Count == 0 ? [] : prompts.MaxBy(p => p.Nodes)!.Grid;
        var bootstrap = new Bootstrap(prompts.Count, resamples);
        double[] F(int[]? counts) => Curve(method, prompts, grid, c => c.Kept, counts);
        double[] C(int[]? counts) => Curve(method, prompts, grid, c => c.Removed, counts);
        Estimate Interval(Func<int[]?, double> statistic) =>
            bootstrap.Interval(prompts.Count == 0 ? double.NaN : statistic(null), counts => statistic(counts));
        return new CircuitSummary(method, grid, F(null), C(null),
            Interval(counts => Area(grid, F(counts))),
            Interval(counts => Area(grid, C(counts))),
            Interval(counts => FirstReaching(grid, F(counts))),
            prompts.Count == 0 ? double.NaN : prompts.Average(p => p.Curves[method].ScoreSeconds),
            prompts.Count == 0 ? double.NaN : prompts.Average(p => p.Curves[method].AblationSeconds));
    }

    /// <summary>
    /// Σ_p (m_p(n) − m_p(empty)) / Σ_p (m_p(model) − m_p(empty)) at each n; a prompt with fewer nodes than
    /// n keeps (or removes) all of its nodes there. With <paramref name="counts"/> (a bootstrap resample)
    /// each prompt counts as many times as it was drawn.
    /// </summary>
    public static double[] Curve(string method, IReadOnlyList<CircuitEvaluation> prompts, int[] grid, Func<CircuitCurve, double[]> values, int[]? counts = null)
    {
        double Weight(int p) => counts is null ? 1 : counts[p];
        double denominator = 0;
        for (int p = 0; p < prompts.Count; p++) denominator += Weight(p) * (prompts[p].Curves[method].Model - prompts[p].Curves[method].Empty);
        return grid.Select(n =>
        {
            double sum = 0;
            for (int p = 0; p < prompts.Count; p++)
            {
                if (Weight(p) == 0) continue;
                var c = prompts[p].Curves[method];
                int at = Array.IndexOf(prompts[p].Grid, Math.Min(n, prompts[p].Nodes));
                sum += Weight(p) * (values(c)[at] - c.Empty);
            }
            return sum / denominator;
        }).ToArray();
    }

    /// <summary>The trapezoid area under the curve over log n, divided by the log n range (a single point: its value).</summary>
    public static double Area(int[] grid, double[] curve)
    {
        if (grid.Length == 1) return curve[0];
        double sum = 0;
        for (int i = 1; i < grid.Length; i++) sum += (curve[i] + curve[i - 1]) / 2 * Math.Log(grid[i] / (double)grid[i - 1]);
        return sum / Math.Log(grid[^1] / (double)grid[0]);
    }

    /// <summary>The smallest n of the grid with F(n) ≥ 0.8 (NaN when none reaches it).</summary>
    public static double FirstReaching(int[] grid, double[] curve)
    {
        int i = Array.FindIndex(curve, v => v >= Threshold);
        return i < 0 ? double.NaN : grid[i];
    }
}
