using RelpSae.Sae;

namespace RelpSae.Tests.Sae;

public class SaeEvaluationTests
{
    [Fact]
    public void MetricsMatchTheirDefinitionsOverSeveralBatches()
    {
        // Two tokens of d_in 2 and d_sae 3, fed as two batches.
        float[] x = [1, 2, 3, 6];
        float[] xhat = [1, 1, 3, 4];
        float[] f = [0, 2, 0, 0, 5, 1];
        var evaluation = new SaeEvaluation(2, 3);
        evaluation.Add(x.AsSpan(0, 2), xhat.AsSpan(0, 2), f.AsSpan(0, 3));
        evaluation.Add(x.AsSpan(2, 2), xhat.AsSpan(2, 2), f.AsSpan(3, 3));
        var m = evaluation.Result(denseThreshold: 0.6);

        Assert.Equal(2, m.Tokens);
        Assert.Equal(1.5, m.L0, 12);
        Assert.Equal((1.0 + 4.0) / 4, m.Mse, 12);          // squared errors 1 and 4 over 2 tokens × 2 dims
        // x̄ = (2, 4); Σ‖x − x̄‖² = (1 + 4) + (1 + 4) = 10
        Assert.Equal(1 - 5.0 / 10, m.ExplainedVariance, 12);
        Assert.Equal([0.0, 1.0, 0.5], m.FeatureDensity);
        Assert.Equal(1.0 / 3, m.DeadFraction, 12);
        Assert.Equal(1.0 / 3, m.DenseFraction, 12);
    }

    [Fact]
    public void EncodingOverloadAgreesWithTheSaesOwnOutputs()
    {
        var sae = SaeTestData.RandomSae(SaeTestData.Config(SaeArchitecture.Standard, 6, 10), 1);
        var x = SaeTestData.Gaussian(8 * 6, 2);
        var viaSae = new SaeEvaluation(6, 10);
        viaSae.Add(sae, x);
        var direct = new SaeEvaluation(6, 10);
        var f = sae.Encode(x);
        direct.Add(x, sae.Decode(f), f);
        Assert.Equal(direct.Result() with { FeatureDensity = [] }, viaSae.Result() with { FeatureDensity = [] });
        Assert.Equal(direct.Result().FeatureDensity, viaSae.Result().FeatureDensity);
    }

    [Fact]
    public void LogDensityIsSaeLensSparsity()
    {
        var log = SaeEvaluation.LogDensity([0.0, 0.01, 1.0]);
        Assert.Equal(-10f, log[0], 4);
        Assert.Equal(-2f, log[1], 4);
        Assert.Equal(0f, log[2], 4);
    }

    [Fact]
    public void CeLossRecoveredIsTheShareOfTheAblationGapClosed()
    {
        Assert.Equal(1.0, SaeEvaluation.CeLossRecovered(ceClean: 3.0, ceSae: 3.0, ceZero: 7.0), 12);
        Assert.Equal(0.0, SaeEvaluation.CeLossRecovered(3.0, 7.0, 7.0), 12);
        Assert.Equal(0.75, SaeEvaluation.CeLossRecovered(3.0, 4.0, 7.0), 12);
        Assert.True(double.IsNaN(SaeEvaluation.CeLossRecovered(3.0, 4.0, 3.0)));
    }
}
