using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Tests.Model;

public class BackwardTests
{
    private const int Batch = 2, Tokens = 5;

    public static TheoryData<string, MetricKind> Cases => new()
    {
        { "blocks.0.hook_resid_pre", MetricKind.Logit },
        { "blocks.0.hook_resid_post", MetricKind.LogitDiff },
        { "blocks.1.hook_resid_mid", MetricKind.LogProb },
        { "blocks.0.hook_resid_mid", MetricKind.LogitDiff },
        { "blocks.1.hook_resid_pre", MetricKind.LogProb },
    };

    /// <summary>With every rule off, the backward pass is the gradient: central finite differences agree.</summary>
    [Theory, MemberData(nameof(Cases))]
    public void ExactBackwardMatchesCentralFiniteDifferences(string hookName, MetricKind kind)
    {
        var model = TinyModels.Create();
        var hook = model.Facts.ParseHook(hookName);
        var tokens = TinyModels.Tokens(Batch, Tokens);
        var x = model.ActivationAt(hook, tokens, Batch);
        var metric = new Metric(kind, Target: 3, Foil: 11, Position: kind == MetricKind.LogitDiff ? 2 : -1);

        var run = model.ForwardFrom(hook, x, Batch, Tokens, new RunOptions { KeepForBackward = true, Logits = LogitRows.None });
        var grad = run.Backward(metric, hook, PropagationRules.Gradient);

        double Total(float[] input) => model.ForwardFrom(hook, input, Batch, Tokens, new RunOptions { Logits = LogitRows.None }).MetricValues(metric).Sum();
        const float h = 1e-2f;
        double errorSq = 0, normSq = 0;
        for (int i = 0; i < x.Length; i++)
        {
            var plus = (float[])x.Clone(); plus[i] += h;
            var minus = (float[])x.Clone(); minus[i] -= h;
            double fd = (Total(plus) - Total(minus)) / (plus[i] - minus[i]);
            errorSq += (fd - grad[i]) * (fd - grad[i]);
            normSq += fd * fd;
        }
        Assert.True(normSq > 1e-4, "the metric should depend on the activation");
        Assert.True(Math.Sqrt(errorSq / normSq) < 1e-3, $"relative error {Math.Sqrt(errorSq / normSq):E2}");
    }

    /// <summary>
    /// With biases zeroed, LN σ, GELU gates and attention patterns frozen (relp-ah) make the model linear
    /// along the backward pass, so relevance is conserved from the logit down to any residual hook:
    /// Σ x·g = m exactly.
    /// </summary>
    [Theory]
    [InlineData("blocks.0.hook_resid_pre")]
    [InlineData("blocks.1.hook_resid_mid")]
    [InlineData("blocks.0.hook_resid_post")]
    public void RelpAhConservesRelevanceWithBiasesZeroed(string hookName)
    {
        var model = TinyModels.Create(seed: 3, zeroBiases: true);
        var hook = model.Facts.ParseHook(hookName);
        var x = model.ActivationAt(hook, TinyModels.Tokens(1, Tokens), 1);
        foreach (var metric in new[] { new Metric(MetricKind.Logit, 5), new Metric(MetricKind.LogitDiff, 5, 9) })
        {
            var run = model.ForwardFrom(hook, x, 1, Tokens, new RunOptions { KeepForBackward = true, Logits = LogitRows.None });
            var g = run.Backward(metric, hook, PropagationRules.RelPAh);
            double relevance = 0;
            for (int i = 0; i < x.Length; i++) relevance += (double)x[i] * g[i];
            double m = run.MetricValues(metric)[0];
            Assert.Equal(m, relevance, Math.Abs(m) * 1e-4 + 1e-5);
        }
    }

    /// <summary>Past the last attention (MLP, LN2, ln_f) relp is LN-rule + Identity-rule only: relevance is conserved there too.</summary>
    [Fact]
    public void RelpConservesRelevanceThroughTheLastMlp()
    {
        var model = TinyModels.Create(seed: 4, zeroBiases: true);
        var hook = model.Facts.ParseHook("blocks.1.hook_resid_mid");
        var x = model.ActivationAt(hook, TinyModels.Tokens(1, Tokens), 1);
        var metric = new Metric(MetricKind.Logit, 7);
        var run = model.ForwardFrom(hook, x, 1, Tokens, new RunOptions { KeepForBackward = true, Logits = LogitRows.None });
        var g = run.Backward(metric, hook, PropagationRules.RelP);
        double m = run.MetricValues(metric)[0];
        Assert.Equal(m, x.Select((v, i) => (double)v * g[i]).Sum(), Math.Abs(m) * 1e-4 + 1e-5);
    }

    /// <summary>
    /// attnlrp's closed form. Through one attention layer half-attn passes half the value path
    /// (dv = ½Aᵀdz) and a quarter of the exact score path (½ to the pattern, ½ again to q and k): with
    /// g_mid the gradient above the attention, g_attnlrp = g_mid + ½(g_ah − g_mid) + ¼(g_ln,identity − g_ah).
    /// </summary>
    [Fact]
    public void AttnLrpAttentionIsHalfTheValuePathAndAQuarterOfTheScorePath()
    {
        var model = TinyModels.Create(seed: 5);
        var pre = model.Facts.ParseHook("blocks.1.hook_resid_pre");
        var mid = model.Facts.ParseHook("blocks.1.hook_resid_mid");
        var x = model.ActivationAt(pre, TinyModels.Tokens(Batch, Tokens), Batch);
        var metric = new Metric(MetricKind.LogProb, 6);
        var run = model.ForwardFrom(pre, x, Batch, Tokens, new RunOptions { KeepForBackward = true, Logits = LogitRows.None });
        var gMid = run.Backward(metric, mid, PropagationRules.AttnLrp);
        var gRelp = run.Backward(metric, pre, PropagationRules.AttnLrp);
        var gAh = run.Backward(metric, pre, PropagationRules.RelPAh);
        var gExactAttention = run.Backward(metric, pre, PropagationRules.Parse("ln,identity"));
        double scale = gExactAttention.Max(v => Math.Abs(v));
        for (int i = 0; i < x.Length; i++)
            Assert.Equal(gMid[i] + 0.5 * (gAh[i] - gMid[i]) + 0.25 * (gExactAttention[i] - gAh[i]), gRelp[i], scale * 1e-5);
        Assert.True(gExactAttention.Zip(gAh).Max(p => Math.Abs(p.First - p.Second)) > scale * 1e-2, "the score path should matter");
    }

    [Fact]
    public void WithBiasesTheExactGradientIsNotConservative()
    {
        // The counterpart of the test above: the exact gradient through a nonlinear model is not a decomposition of m.
        var model = TinyModels.Create(seed: 3, zeroBiases: true);
        var hook = model.Facts.ParseHook("blocks.0.hook_resid_pre");
        var x = model.ActivationAt(hook, TinyModels.Tokens(1, Tokens), 1);
        var run = model.ForwardFrom(hook, x, 1, Tokens, new RunOptions { KeepForBackward = true });
        var g = run.Backward(new Metric(MetricKind.Logit, 5), hook, PropagationRules.Gradient);
        double relevance = x.Select((v, i) => (double)v * g[i]).Sum();
        Assert.True(Math.Abs(relevance - run.MetricValues(new Metric(MetricKind.Logit, 5))[0]) > 1e-3);
    }

    [Fact]
    public void PresetsDifferFromTheGradientAndFromEachOther()
    {
        var model = TinyModels.Create();
        var hook = model.Facts.ParseHook("blocks.0.hook_resid_pre");
        var x = model.ActivationAt(hook, TinyModels.Tokens(1, Tokens), 1);
        var run = model.ForwardFrom(hook, x, 1, Tokens, new RunOptions { KeepForBackward = true });
        var metric = new Metric(MetricKind.Logit, 2);
        var exact = run.Backward(metric, hook, PropagationRules.Gradient);
        var relp = run.Backward(metric, hook, PropagationRules.RelP);
        var relpAh = run.Backward(metric, hook, PropagationRules.RelPAh);
        Assert.NotEqual(exact, relp);
        Assert.NotEqual(relp, relpAh);
        // Asking again gives the same answer: the backward pass leaves the forward state untouched.
        Assert.Equal(exact, run.Backward(metric, hook, PropagationRules.Gradient));
    }

    [Fact]
    public void BackwardCannotReachBeforeTheStartOrANonResidualHook()
    {
        var model = TinyModels.Create();
        var start = model.Facts.ParseHook("blocks.1.hook_resid_pre");
        var run = model.ForwardFrom(start, model.ActivationAt(start, TinyModels.Tokens(1, 4), 1), 1, 4, new RunOptions { KeepForBackward = true });
        var metric = new Metric(MetricKind.Logit, 1);
        Assert.Contains("cannot reach", Assert.Throws<RelpSaeException>(() => run.Backward(metric, model.Facts.ParseHook("blocks.0.hook_resid_mid"), PropagationRules.Gradient)).Message);
        Assert.Contains("residual hooks", Assert.Throws<RelpSaeException>(() => run.Backward(metric, model.Facts.ParseHook("blocks.1.mlp.hook_post"), PropagationRules.Gradient)).Message);
    }
}
