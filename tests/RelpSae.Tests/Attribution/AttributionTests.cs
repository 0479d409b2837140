using RelpSae.Attribution;
using RelpSae.Lrp;
using RelpSae.Model;
using RelpSae.Sae;
using RelpSae.Tests.Model;
using RelpSae.Tests.Sae;

namespace RelpSae.Tests.Attribution;

public class AttributionTests
{
    private const int Tokens = 6;

    internal static SparseAutoencoder RandomSae(int dIn, int dSae, int seed, bool zeroBiases = false)
    {
        var sae = SaeTestData.RandomSae(SaeTestData.Config(SaeArchitecture.Standard, dIn, dSae), (ulong)seed);
        if (zeroBiases) { Array.Clear(sae.BEnc); Array.Clear(sae.BDec); }
        return sae;
    }

    private static SaeSplice Splice(Baseline? baseline = null, int seed = 1, bool zeroBiases = false)
    {
        var model = TinyModels.Create(seed, zeroBiases);
        var hook = model.Facts.ParseHook("blocks.1.hook_resid_pre");
        var sae = RandomSae(model.Config.DModel, 48, seed, zeroBiases);
        return SaeSplice.Create(model, sae, hook, TinyModels.Tokens(1, Tokens), baseline ?? Baseline.Corrupt(TinyModels.Tokens(1, Tokens, seed: 99)));
    }

    private static readonly Metric LogitDiff = new(MetricKind.LogitDiff, 4, 17);

    [Fact]
    public void TheSpliceLeavesTheForwardPassUnchanged()
    {
        var s = Splice();
        var reconstruction = s.Sae.Decode(s.Features);
        for (int i = 0; i < s.Clean.Length; i++) Assert.Equal(s.Clean[i], reconstruction[i] + s.Error[i], 1e-5);
        Assert.Contains(s.Features, f => f > 0);
    }

    [Fact]
    public void IntegratedGradientsIsCompleteAtSixtyFourSteps()
    {
        var s = Splice();
        double delta = Attributor.FullPatchDelta(s, LogitDiff);
        foreach (var rule in new[] { QuadratureRule.Midpoint, QuadratureRule.GaussLegendre })
        {
            var ig = Attributor.Run(new IntegratedGradients(64, rule), s, LogitDiff);
            Assert.True(Math.Abs(delta) > 0.05, "the baseline should move the metric");
            Assert.Equal(delta, ig.Total + ig.ErrorNode, Math.Abs(delta) * 0.01);
        }
    }

    [Fact]
    public void GradientScoreMatchesAFiniteDifferenceSingleFeaturePatch()
    {
        var s = Splice();
        AssertFiniteDifferences(s, Attributor.Run(GradientMethod.Gradient, s, LogitDiff));
    }

    /// <summary>
    /// RelP with every rule off is the exact gradient: its scores are the finite differences too, and each rule
    /// that has something to act on in GPT-2 (ln, identity, ah, half-attn) moves them.
    /// </summary>
    [Fact]
    public void RelpWithEveryRuleOffIsTheGradient()
    {
        var s = Splice();
        var none = Attributor.Run(new GradientMethod("relp", PropagationRules.Parse("none")), s, LogitDiff);
        AssertFiniteDifferences(s, none);
        foreach (var rule in new[] { "ln", "identity", "ah", "half-attn" })
            Assert.NotEqual(none.Scores, Attributor.Run(new GradientMethod("relp", PropagationRules.Parse(rule)), s, LogitDiff).Scores);
    }

    /// <summary>
    /// Each of the first active features' scores is the central difference of the metric over moving the
    /// feature a small fraction h of the way to its baseline, both ways: (f − f′)·∂m/∂f.
    /// </summary>
    private static void AssertFiniteDifferences(SaeSplice s, AttributionResult scores)
    {
        int n = s.Sae.DSae, d = s.Sae.DIn;
        foreach (int feature in GroundTruth.ActiveFeatures(s).Take(6))
        {
            const float h = 0.005f;
            float[] Shifted(float sign)
            {
                var x = (float[])s.Clean.Clone();
                for (int t = 0; t < Tokens; t++)
                {
                    float delta = sign * h * (s.BaselineFeatures[t * n + feature] - s.Features[t * n + feature]);
                    for (int j = 0; j < d; j++) x[t * d + j] += delta * s.Sae.WDec[feature * d + j];
                }
                return x;
            }
            double fd = (s.MetricAt(Shifted(-1), LogitDiff) - s.MetricAt(Shifted(1), LogitDiff)) / (2 * h);
            Assert.Equal(fd, scores.FeatureTotals[feature], Math.Abs(fd) * 2e-3 + 2e-4);
        }
    }

    [Fact]
    public void RelpAhIsCompleteWithBiasesZeroed()
    {
        // With no biases anywhere, m(0) = 0 and the relp-ah backward is the model's linearisation: the
        // scores and the error node add up to m(x) − m(0) with a zero baseline (docs/methods.md §4 conservation).
        var s = Splice(Baseline.Zero, seed: 4, zeroBiases: true);
        var metric = new Metric(MetricKind.Logit, 9);
        var relp = Attributor.Run(GradientMethod.RelPAh, s, metric);
        double delta = Attributor.FullPatchDelta(s, metric);
        Assert.Equal(0, s.MetricAt(s.BaselineActivation, metric), 1e-6);
        Assert.Equal(delta, relp.Total + relp.ErrorNode, Math.Abs(delta) * 1e-4 + 1e-5);
    }

    [Fact]
    public void BatchedAndOneAtATimePathsAgree()
    {
        var s = Splice();
        var features = GroundTruth.ActiveFeatures(s);
        var one = new GroundTruth(batchSize: 1).Effects(s, LogitDiff, features);
        var many = new GroundTruth(batchSize: 16).Effects(s, LogitDiff, features);
        for (int i = 0; i < features.Length; i++) Assert.Equal(one[i], many[i], 1e-5);
        // IG one path point per pass, in passes of 3, 3 and 2 (the last one ragged), and all at once (the default here).
        var igOne = Attributor.Run(new IntegratedGradients(8, chunkSize: 1), s, LogitDiff);
        Assert.Equal(8, new IntegratedGradients(8).PointsPerPass(s.Tokens));
        foreach (var batched in new[] { new IntegratedGradients(8, chunkSize: 3), new IntegratedGradients(8) })
        {
            var igMany = Attributor.Run(batched, s, LogitDiff);
            for (int i = 0; i < igOne.Scores.Length; i++) Assert.Equal(igOne.Scores[i], igMany.Scores[i], 1e-5);
            Assert.Equal(igOne.ErrorNode, igMany.ErrorNode, 1e-5);
        }
    }

    [Theory]
    [InlineData(32, 64, 16)]     // 1024 rows: two passes of 16
    [InlineData(32, 100, 8)]     // at most 10 per pass: four even passes of 8, not 10, 10, 10, 2
    [InlineData(32, 1024, 1)]
    [InlineData(32, 4096, 1)]    // never fewer than one
    [InlineData(4, 8, 4)]        // never more than the steps
    public void PathPointsFillPassesEvenlyWithinTheRowBudget(int steps, int tokens, int expected) =>
        Assert.Equal(expected, new IntegratedGradients(steps).PointsPerPass(tokens));

    [Fact]
    public void AtOnePositionOnlyThatPositionIsPatched()
    {
        var s = Splice();
        var features = GroundTruth.ActiveFeatures(s);
        var truth = new GroundTruth();
        // Patching at a position after the metric's cannot change it (causal attention).
        var metricAtThree = LogitDiff with { Position = 3 };
        Assert.All(truth.Effects(s, metricAtThree, features, position: 5), e => Assert.Equal(0, e, 1e-6));
        Assert.Contains(truth.Effects(s, metricAtThree, features, position: 2), e => Math.Abs(e) > 1e-4);
    }

    [Fact]
    public void QuadratureIntegratesPolynomialsExactly()
    {
        // Gauss–Legendre with n nodes is exact to degree 2n − 1; the midpoint rule to degree 1.
        var (x, w) = Quadrature.Create(QuadratureRule.GaussLegendre, 5);
        Assert.Equal(1.0 / 10, x.Zip(w, (a, b) => b * Math.Pow(a, 9)).Sum(), 12);
        Assert.Equal(1.0, w.Sum(), 12);
        var (m, mw) = Quadrature.Create(QuadratureRule.Midpoint, 4);
        Assert.Equal(0.5, m.Zip(mw, (a, b) => a * b).Sum(), 12);
        Assert.Throws<RelpSaeException>(() => Quadrature.Create(QuadratureRule.Midpoint, 0));
    }

    [Fact]
    public void CorruptedPromptOfAnotherLengthIsAClearError()
    {
        var model = TinyModels.Create();
        var hook = model.Facts.ParseHook("blocks.1.hook_resid_pre");
        var e = Assert.Throws<RelpSaeException>(() =>
            SaeSplice.Create(model, RandomSae(16, 32, 1), hook, TinyModels.Tokens(1, 5), Baseline.Corrupt(TinyModels.Tokens(1, 6))));
        Assert.Contains("6 tokens long but the prompt is 5", e.Message);
        Assert.Contains("d_in is 8", Assert.Throws<RelpSaeException>(() =>
            SaeSplice.Create(model, RandomSae(8, 32, 1), hook, TinyModels.Tokens(1, 5), Baseline.Zero)).Message);
    }
}
