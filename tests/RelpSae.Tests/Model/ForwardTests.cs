using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Tests.Model;

public class ForwardTests
{
    private const int V = 50;

    [Theory]
    [InlineData("blocks.0.hook_resid_pre")]
    [InlineData("blocks.0.hook_resid_mid")]
    [InlineData("blocks.1.hook_resid_pre")]
    [InlineData("blocks.1.hook_resid_post")]
    public void PartialForwardFromAnUnchangedActivationReproducesTheFullForward(string hookName)
    {
        var model = TinyModels.Create();
        var hook = model.Facts.ParseHook(hookName);
        var tokens = TinyModels.Tokens(2, 6);
        var full = model.Forward(tokens, 2, new RunOptions { Cache = [hook], Logits = LogitRows.All });
        var partial = model.ForwardFrom(hook, full.Cached(hook), 2, 6, new RunOptions { Logits = LogitRows.All });
        Assert.Equal(full.Logits, partial.Logits);
        Assert.Equal(full.Cached(hook), model.ActivationAt(hook, tokens, 2)); // the prefix alone stops there with the same values
    }

    [Fact]
    public void RerunFromTheSameHookEqualsAFreshPartialForwardAndBackward()
    {
        var model = TinyModels.Create();
        var hook = model.Facts.ParseHook("blocks.1.hook_resid_pre");
        var clean = model.ActivationAt(hook, TinyModels.Tokens(2, 6), 2);
        var patched = model.ActivationAt(hook, TinyModels.Tokens(2, 6, seed: 9), 2);
        var options = new RunOptions { KeepForBackward = true, Logits = LogitRows.All };
        var metric = new Metric(MetricKind.LogProb, 4);

        var run = model.ForwardFrom(hook, clean, 2, 6, options);
        var cleanLogits = (float[])run.Logits.Clone();
        var cleanGrad = run.Backward(metric, hook, PropagationRules.RelP);
        var fresh = model.ForwardFrom(hook, patched, 2, 6, options);
        run.Rerun(patched);
        Assert.Equal(fresh.Logits, run.Logits);
        Assert.NotEqual(cleanLogits, run.Logits);
        Assert.Equal(fresh.Backward(metric, hook, PropagationRules.RelP), run.Backward(metric, hook, PropagationRules.RelP));
        run.Rerun(clean);
        Assert.Equal(cleanLogits, run.Logits);
        Assert.Equal(cleanGrad, run.Backward(metric, hook, PropagationRules.RelP));
        Assert.Throws<InvalidOperationException>(() => model.Forward(TinyModels.Tokens(1, 3), 1).Rerun(clean));
    }

    [Fact]
    public void BatchedSequencesEqualEachSequenceAlone()
    {
        var model = TinyModels.Create();
        var tokens = TinyModels.Tokens(3, 7);
        var batched = model.Forward(tokens, 3, new RunOptions { Logits = LogitRows.All }).Logits;
        for (int b = 0; b < 3; b++)
        {
            var alone = model.Forward(tokens.AsSpan(b * 7, 7), 1, new RunOptions { Logits = LogitRows.All }).Logits;
            for (int i = 0; i < alone.Length; i++) Assert.Equal(alone[i], batched[b * alone.Length + i], 1e-5);
        }
    }

    [Fact]
    public void LastPositionLogitsAreTheLastRowOfAllLogits()
    {
        var model = TinyModels.Create();
        var tokens = TinyModels.Tokens(2, 5);
        var all = model.Forward(tokens, 2, new RunOptions { Logits = LogitRows.All }).Logits;
        var last = model.Forward(tokens, 2).Logits;
        for (int b = 0; b < 2; b++)
            Assert.Equal(all.AsSpan((b * 5 + 4) * V, V).ToArray(), last.AsSpan(b * V, V).ToArray());
    }

    [Fact]
    public void CausalMaskKeepsEarlierPositionsBlindToLaterTokens()
    {
        var model = TinyModels.Create();
        int[] a = [1, 2, 3, 4], b = [1, 2, 3, 9];
        var la = model.Forward(a, 1, new RunOptions { Logits = LogitRows.All }).Logits;
        var lb = model.Forward(b, 1, new RunOptions { Logits = LogitRows.All }).Logits;
        Assert.Equal(la.AsSpan(0, 3 * V).ToArray(), lb.AsSpan(0, 3 * V).ToArray());
        Assert.NotEqual(la.AsSpan(3 * V, V).ToArray(), lb.AsSpan(3 * V, V).ToArray());
    }

    [Fact]
    public void CenteringWritingWeightsCentresTheResidualAndLeavesLogitsUnchanged()
    {
        var tokens = TinyModels.Tokens(1, 6);
        var hook = new HookPoint(HookKind.ResidPre, 1);
        var plain = TinyModels.Create();
        var centred = TinyModels.Create();
        centred.Forward(tokens, 1).Dispose();  // packs the weights before they change: centring must drop the packs
        centred.Weights.CenterWritingWeights();
        var p = plain.Forward(tokens, 1, new RunOptions { Cache = [hook], Logits = LogitRows.All });
        var c = centred.Forward(tokens, 1, new RunOptions { Cache = [hook], Logits = LogitRows.All });
        for (int i = 0; i < p.Logits.Length; i++) Assert.Equal(p.Logits[i], c.Logits[i], 1e-4);
        int d = TinyModels.Config.DModel;
        var xp = p.Cached(hook); var xc = c.Cached(hook);
        for (int t = 0; t < 6; t++)
        {
            double mean = xp.AsSpan(t * d, d).ToArray().Average(v => (double)v);
            for (int j = 0; j < d; j++) Assert.Equal(xp[t * d + j] - mean, xc[t * d + j], 1e-5);
        }
    }

    [Fact]
    public void HooksAreCachedByTransformerLensNames()
    {
        var model = TinyModels.Create();
        var names = new[] { "hook_embed", "hook_pos_embed", "blocks.0.attn.hook_pattern", "blocks.1.mlp.hook_post", "blocks.1.hook_mlp_out", "ln_final.hook_normalized" };
        var run = model.Forward(TinyModels.Tokens(1, 4), 1, new RunOptions { Cache = names.Select(n => model.Facts.ParseHook(n)).ToArray() });
        Assert.Equal(names.Order(), run.Cache.Keys.Order());
        Assert.Equal(4 * model.Config.DMlp, run.Cache["blocks.1.mlp.hook_post"].Length);
        // Each pattern row is a causal probability distribution.
        var pattern = run.Cache["blocks.0.attn.hook_pattern"];
        for (int row = 0; row < 2 * 4; row++)
        {
            var r = pattern.AsSpan(row * 4, 4);
            Assert.Equal(1, r.ToArray().Sum(), 1e-5);
            for (int j = row % 4 + 1; j < 4; j++) Assert.Equal(0f, r[j]);
        }
    }

    [Fact]
    public void BadInputsAreClearErrors()
    {
        var model = TinyModels.Create();
        Assert.Contains("no hook point \"blocks.9.hook_resid_pre\"", Assert.Throws<RelpSaeException>(() => model.Facts.ParseHook("blocks.9.hook_resid_pre")).Message);
        Assert.Contains("token id 50 is outside", Assert.Throws<RelpSaeException>(() => model.Forward([1, 50], 1)).Message);
        Assert.Contains("longer than the model's context of 16", Assert.Throws<RelpSaeException>(() => model.Forward(new int[17], 1)).Message);
    }
}
