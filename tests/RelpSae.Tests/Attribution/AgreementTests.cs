using RelpSae.Attribution;

namespace RelpSae.Tests.Attribution;

public class AgreementTests
{
    // Hand-computed: x = [1,2,3,4], y = [2,4,5,9]: mean 2.5 and 5; Sxy = 1.5·3+0.5·1+0.5·0+1.5·4 = 11,
    // Sxx = 5, Syy = 9+1+0+16 = 26 → r = 11/√130.
    [Fact]
    public void PearsonMatchesHandComputed() =>
        Assert.Equal(11 / Math.Sqrt(130), Agreement.Pearson([1, 2, 3, 4], [2, 4, 5, 9]), 12);

    [Fact]
    public void PearsonOfConstantIsUndefined() =>
        Assert.True(double.IsNaN(Agreement.Pearson([1, 1, 1], [1, 2, 3])));

    [Fact]
    public void SpearmanIsOneForAnyMonotoneMap() =>
        Assert.Equal(1.0, Agreement.Spearman([0.1, 5, 2, -3], [Math.Exp(0.1), Math.Exp(5), Math.Exp(2), Math.Exp(-3)]), 12);

    // Ties get average ranks: x ranks [1.5,1.5,3,4]; y ranks [1,2,3,4] → Pearson of the ranks by hand:
    // means 2.5; dx = [-1,-1,.5,1.5], dy = [-1.5,-.5,.5,1.5]; Sxy = 1.5+.5+.25+2.25 = 4.5; Sxx = 4.5; Syy = 5.
    [Fact]
    public void SpearmanUsesAverageRanksForTies() =>
        Assert.Equal(4.5 / Math.Sqrt(4.5 * 5), Agreement.Spearman([7, 7, 8, 9], [1, 2, 3, 4]), 12);

    [Fact]
    public void TopKCountsTheOverlapByMagnitude()
    {
        double[] scores = [5, -4, 0.1, 3, 0];
        double[] truth = [-6, 0.2, 0.1, 2, 3];
        // top-2 by |score| = {0,1}; by |truth| = {0,4} → 1/2. top-3: {0,1,3} vs {0,4,3} → 2/3.
        Assert.Equal(0.5, Agreement.TopK(scores, truth, 2));
        Assert.Equal(2.0 / 3, Agreement.TopK(scores, truth, 3), 12);
        Assert.Equal(1.0, Agreement.TopK(scores, truth, 10)); // k capped at the feature count
    }

    [Fact]
    public void SignAgreementSkipsZeroEffects() =>
        Assert.Equal(2.0 / 3, Agreement.SignAgreement([1, -1, 2, 5], [3, 1, 0.5, 0]), 12);

    [Fact]
    public void RelativeErrorIsZeroForExactScoresAndOneForZeros()
    {
        double[] truth = [1, -2, 3];
        Assert.Equal(0.0, Agreement.RelativeError(truth, truth));
        Assert.Equal(1.0, Agreement.RelativeError([0, 0, 0], truth));
        Assert.Equal(1.0 / 6, Agreement.RelativeError([1, -2, 4], truth), 12);
    }

    [Fact]
    public void BootstrapIntervalContainsTheEstimateAndIsDeterministic()
    {
        var prompts = Enumerable.Range(0, 30).Select(i => (double)i).ToArray();
        double Mean(int[] counts) => prompts.Select((v, i) => v * counts[i]).Sum() / counts.Sum();
        var e1 = new Bootstrap(prompts.Length, 500, seed: 3).Interval(prompts.Average(), Mean);
        var e2 = new Bootstrap(prompts.Length, 500, seed: 3).Interval(prompts.Average(), Mean);
        Assert.Equal(e1, e2);
        Assert.Equal(14.5, e1.Value, 12);
        Assert.InRange(e1.Value, e1.Low, e1.High);
        // The mean of 30 draws from 0..29 has standard error ≈ 8.66/√30 ≈ 1.58: the 95% interval is ≈ ±3.1.
        Assert.InRange(e1.High - e1.Low, 4.5, 8.0);
    }
}

public class ResampledAgreementTests
{
    /// <summary>Prompts with ties across and within prompts, zero truths and one constant prompt.</summary>
    private static List<PromptEvaluation> Prompts()
    {
        var rng = new Random(4);
        return Enumerable.Range(0, 9).Select(i =>
        {
            int n = 3 + i % 4;
            var truth = Enumerable.Range(0, n).Select(_ => i == 2 ? 0.5 : Math.Round(rng.NextDouble() * 4 - 2, 1)).ToArray();
            var scores = truth.Select(t => Math.Round(t + rng.NextDouble() - 0.5, 1)).ToArray();
            return new PromptEvaluation(i, $"p{i}", "logit", 0, 0, Enumerable.Range(0, n).ToArray(), truth,
                new Dictionary<string, double[]> { ["m"] = scores }, new Dictionary<string, double> { ["m"] = 0 }, 0);
        }).ToList();
    }

    [Fact]
    public void WeightedStatisticsEqualTheStatisticsOfTheExplicitlyPooledResample()
    {
        var prompts = Prompts();
        var resampled = new ResampledAgreement(prompts, "m");
        var rng = new Random(5);
        for (int trial = 0; trial < 20; trial++)
        {
            var counts = prompts.Select(_ => rng.Next(3)).ToArray();
            var drawn = prompts.SelectMany((p, i) => Enumerable.Repeat(p, counts[i])).ToList();
            double[] scores = drawn.SelectMany(p => p.Scores["m"]).ToArray(), truth = drawn.SelectMany(p => p.Truth).ToArray();
            Assert.Equal(Agreement.Pearson(scores, truth), resampled.Pearson(counts), 10);
            Assert.Equal(Agreement.Spearman(scores, truth), resampled.Spearman(counts), 10);
            Assert.Equal(Agreement.SignAgreement(scores, truth), resampled.SignAgreement(counts), 12);
            Assert.Equal(Agreement.RelativeError(scores, truth), resampled.RelativeError(counts), 12);
        }
    }

    [Fact]
    public void SummariesUseTheSameResamplesAndMatchThePooledPointValues()
    {
        var prompts = Prompts();
        var summary = MethodSummary.SummarizeAll(["m"], prompts, resamples: 200, seed: 1)[0];
        double[] scores = prompts.SelectMany(p => p.Scores["m"]).ToArray(), truth = prompts.SelectMany(p => p.Truth).ToArray();
        Assert.Equal(Agreement.Pearson(scores, truth), summary.Pearson.Value);
        Assert.Equal(Agreement.Spearman(scores, truth), summary.Spearman.Value);
        Assert.InRange(summary.Pearson.Value, summary.Pearson.Low, summary.Pearson.High);
        Assert.Equal(summary, MethodSummary.SummarizeAll(["m"], prompts, resamples: 200, seed: 1)[0]);
    }
}
