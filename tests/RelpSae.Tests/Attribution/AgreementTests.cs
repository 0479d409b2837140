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
        var prompts = Enumerable.Range(0, 30).Select(i => (double)i).ToList();
        double Mean(IReadOnlyList<double> p) => p.Average();
        var e1 = Bootstrap.OverPrompts(prompts, Mean, 500, seed: 3);
        var e2 = Bootstrap.OverPrompts(prompts, Mean, 500, seed: 3);
        Assert.Equal(e1, e2);
        Assert.Equal(14.5, e1.Value, 12);
        Assert.InRange(e1.Value, e1.Low, e1.High);
        // The mean of 30 draws from 0..29 has standard error ≈ 8.66/√30 ≈ 1.58: the 95% interval is ≈ ±3.1.
        Assert.InRange(e1.High - e1.Low, 4.5, 8.0);
    }
}
