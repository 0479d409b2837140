using System.Numerics.Tensors;
using RelpSae.Attribution;
using RelpSae.Lrp;
using RelpSae.Model;
using RelpSae.Prompts;
using RelpSae.Tests.Model;
using RelpSae.Text;

namespace RelpSae.Tests.Attribution;

public class ComponentPatchingTests
{
    private const int T = 6;
    private static readonly Metric LogitDiff = new(MetricKind.LogitDiff, Target: 3, Foil: 11);

    /// <summary>The clean and corrupted prompts share their first two tokens, so those positions' components are left out.</summary>
    private static (int[] Clean, int[] Corrupt) Prompts()
    {
        var clean = TinyModels.Tokens(1, T, seed: 7);
        var corrupt = TinyModels.Tokens(1, T, seed: 8);
        clean.AsSpan(0, 2).CopyTo(corrupt);
        return (clean, corrupt);
    }

    private static HookPoint[] ComponentHooks(ModelFacts c) => Enumerable.Range(0, c.NLayers)
        .SelectMany(l => new[] { HookKind.ResidPre, HookKind.AttnOut, HookKind.MlpOut, HookKind.AttnZ, HookKind.ResidMid, HookKind.ResidPost }
            .Select(k => new HookPoint(k, l))).ToArray();

    /// <summary>
    /// Each true effect equals m(clean) − m(re-run) where the re-run starts from a residual hook whose row
    /// carries the patched component — without the patch mechanism: resid_pre is replaced outright,
    /// attn_out and mlp_out add (a_corr − a_clean) to resid_mid / resid_post, and a head adds (z_corr − z_clean)·W_O.
    /// </summary>
    [Fact]
    public void TrueEffectsEqualADirectRerunWithOnePatchedActivation()
    {
        var model = TinyModels.Create(seed: 2);
        var c = model.Facts;
        var (tokens, corrupt) = Prompts();
        var patching = new ComponentPatching(model, [GradientMethod.Gradient], ComponentSelection.All(c), batchSize: 7);
        var record = patching.Evaluate(0, "p", tokens, corrupt, LogitDiff);
        using var clean = model.Forward(tokens, 1, new RunOptions { Cache = ComponentHooks(c), Logits = LogitRows.None });
        using var corrupted = model.Forward(corrupt, 1, new RunOptions { Cache = ComponentHooks(c), Logits = LogitRows.None });
        double m0 = clean.MetricValues(LogitDiff)[0];
        Assert.Equal(c.NLayers * (T - 2) * (3 + c.NHeads), record.Components.Length);
        Assert.DoesNotContain(record.Components, k => k.Position < 2);

        for (int i = 0; i < record.Components.Length; i++)
        {
            var k = record.Components[i];
            var (start, x) = DirectPatch(model, clean, corrupted, k);
            using var run = model.ForwardFrom(start, x, 1, T, new RunOptions { Logits = LogitRows.None });
            double expected = m0 - run.MetricValues(LogitDiff)[0];
            Assert.True(Math.Abs(expected - record.Truth[i]) < 1e-4 * (1 + Math.Abs(expected)), $"{k}: {record.Truth[i]} vs {expected}");
        }
        Assert.Contains(record.Truth, t => Math.Abs(t) > 1e-2);
    }

    private static (HookPoint Start, float[] Activation) DirectPatch(Gpt2 model, BlockRun<Gpt2Activations> clean, BlockRun<Gpt2Activations> corrupt, Component k)
    {
        var c = model.Facts;
        int d = c.DModel, row = k.Position * d;
        var delta = new float[d];
        HookPoint start;
        switch (k.Kind)
        {
            case ComponentKind.ResidPre:
                start = k.Hook;
                TensorPrimitives.Subtract(corrupt.Cached(k.Hook).AsSpan(row, d), clean.Cached(k.Hook).AsSpan(row, d), delta);
                break;
            case ComponentKind.AttnOut or ComponentKind.MlpOut:
                start = new HookPoint(k.Kind == ComponentKind.AttnOut ? HookKind.ResidMid : HookKind.ResidPost, k.Layer);
                TensorPrimitives.Subtract(corrupt.Cached(k.Hook).AsSpan(row, d), clean.Cached(k.Hook).AsSpan(row, d), delta);
                break;
            default:
                start = new HookPoint(HookKind.ResidMid, k.Layer);
                var wo = model.Weights.Layers[k.Layer].O.InOut();
                for (int i = k.Head * c.DHead; i < (k.Head + 1) * c.DHead; i++)
                {
                    float dz = corrupt.Cached(k.Hook)[row + i] - clean.Cached(k.Hook)[row + i];
                    TensorPrimitives.MultiplyAdd(wo.AsSpan(i * d, d), dz, delta, delta);
                }
                break;
        }
        var x = (float[])clean.Cached(start).Clone();
        TensorPrimitives.Add(x.AsSpan(row, d), delta, x.AsSpan(row, d));
        return (start, x);
    }

    /// <summary>
    /// With a_corr = a_clean + ε·δ (|δ| = |a_clean|), AtP's estimate −ε·δ·g approaches the true effect to
    /// first order: the relative error shrinks in proportion to ε, for every component type.
    /// </summary>
    [Theory]
    [InlineData(ComponentKind.ResidPre, 0, 3)]
    [InlineData(ComponentKind.AttnOut, 1, T - 1)]
    [InlineData(ComponentKind.MlpOut, 0, 3)]
    [InlineData(ComponentKind.Head, 0, 2)]
    public void AtpConvergesToTheTrueEffectAsTheCorruptedActivationApproachesTheClean(ComponentKind kind, int layer, int position)
    {
        var model = TinyModels.Create(seed: 4);
        var c = model.Facts;
        var (tokens, _) = Prompts();
        var k = new Component(kind, layer, position, Head: kind == ComponentKind.Head ? 1 : -1);
        using var clean = model.Forward(tokens, 1, new RunOptions { KeepForBackward = true, Cache = [k.Hook], Logits = LogitRows.None });
        double m0 = clean.MetricValues(LogitDiff)[0];
        var g = clean.ComponentBackward([LogitDiff], PropagationRules.Gradient).At(k.Hook);
        var rng = new Random(9);
        var direction = Enumerable.Range(0, k.Width(c)).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        int at = k.Position * c.DModel + k.Column(c);
        var slice = clean.Cached(k.Hook).AsSpan(at, k.Width(c));
        TensorPrimitives.Multiply(direction, TensorPrimitives.Norm(slice) / TensorPrimitives.Norm(direction), direction);

        double RelativeError(float eps)
        {
            var value = clean.Cached(k.Hook).AsSpan(at, k.Width(c)).ToArray();
            for (int i = 0; i < value.Length; i++) value[i] += eps * direction[i];
            using var patched = model.Forward(tokens, 1, new RunOptions { Logits = LogitRows.None, Patches = [new ActivationPatch(k.Hook, k.Position, k.Column(c), value)] });
            double truth = m0 - patched.MetricValues(LogitDiff)[0];
            double estimate = 0;
            for (int i = 0; i < value.Length; i++) estimate += (double)(-eps * direction[i]) * g[at + i];
            return Math.Abs(estimate - truth) / Math.Abs(truth);
        }

        // ε shrinks fourfold each step (small enough to stay above float32's rounding of the metric).
        double coarse = RelativeError(0.2f), medium = RelativeError(0.05f), fine = RelativeError(0.0125f);
        Assert.True(coarse > 2.5 * medium && medium > 2.5 * fine, $"relative errors {coarse:E2}, {medium:E2}, {fine:E2} do not shrink with ε");
        Assert.True(fine < 0.05, $"relative error at ε = 0.0125: {fine:E2}");
    }

    /// <summary>The coefficients recorded on the way equal separate backward passes to each residual hook.</summary>
    [Fact]
    public void RecordedCoefficientsAreTheBackwardPassesToEachHook()
    {
        var model = TinyModels.Create(seed: 5);
        var (tokens, _) = Prompts();
        using var run = model.Forward(tokens, 1, new RunOptions { KeepForBackward = true, Logits = LogitRows.None });
        foreach (var rules in new[] { PropagationRules.Gradient, PropagationRules.RelPAh })
        {
            var record = run.ComponentBackward([LogitDiff], rules);
            for (int l = 0; l < model.Config.NLayers; l++)
            {
                Assert.Equal(run.Backward(LogitDiff, new HookPoint(HookKind.ResidPre, l), rules), record.ResidPre[l]);
                Assert.Equal(run.Backward(LogitDiff, new HookPoint(HookKind.ResidMid, l), rules), record.AttnOut[l]);
                Assert.Equal(run.Backward(LogitDiff, new HookPoint(HookKind.ResidPost, l), rules), record.MlpOut[l]);
            }
        }
    }

    [Fact]
    public void ComponentsTheModelLacksAreOneLineErrors()
    {
        var c = new Gpt2(Gpt2Weights.Random(TinyModels.Config, seed: 0)).Facts;
        Assert.Contains("no hook point \"blocks.5.hook_mlp_out\"", Assert.Throws<RelpSaeException>(() => ComponentSelection.Parse("blocks.5.hook_mlp_out", c)).Message);
        Assert.Contains("no component \"gate_up\"", Assert.Throws<SettingException>(() => ComponentSelection.Parse("resid_pre,gate_up", c)).Message);
        Assert.Contains("not a patched component", Assert.Throws<SettingException>(() => ComponentSelection.Parse("blocks.0.hook_resid_mid", c)).Message);
        var chosen = ComponentSelection.Parse("head,blocks.1.hook_mlp_out", c);
        Assert.Equal(c.NLayers * T * c.NHeads + T, chosen.Enumerate(T, c).Length);
    }

    [Fact]
    public void ComponentNamesRoundTrip()
    {
        foreach (var k in new[] { new Component(ComponentKind.Head, 3, 7, 11), new Component(ComponentKind.MlpOut, 0, 2), new Component(ComponentKind.ResidPre, 12, 0) })
            Assert.Equal(k, Component.Parse(k.ToString()));
        Assert.Equal("blocks.3.attn.hook_z[11]@7", new Component(ComponentKind.Head, 3, 7, 11).ToString());
    }

    /// <summary>
    /// IOI prompts through the GPT-2 tokenizer and a small random GPT-2 of GPT-2's vocabulary: the
    /// corrupted prompt differs in the name slots only, so exactly the components at and after the
    /// first name are patched, and the metric is the two names' logit difference.
    /// </summary>
    [Fact]
    public void IoiPromptsRunThroughComponentPatching()
    {
        var tokenizer = Gpt2Tokenizer.Load(TestPaths.Data("gpt2-tokenizer"));
        var config = TinyModels.Config with { VocabSize = 50257, NPositions = 32 };
        var model = new Gpt2(Gpt2Weights.Random(config, seed: 3, scale: 0.3f));
        var resolver = new PromptResolver(model, tokenizer, baseline: BaselineKind.Corrupt);
        var patching = new ComponentPatching(model, [GradientMethod.RelP], ComponentSelection.Parse("mlp_out,head", model.Facts));
        foreach (var c in IoiPrompts.Generate(2, seed: 0, text => tokenizer.Encode(text).Length == 1))
        {
            var r = resolver.Resolve(c);
            var corrupt = r.Baseline.CorruptTokens!;
            int first = Enumerable.Range(0, r.Tokens.Length).First(t => r.Tokens[t] != corrupt[t]);
            var e = patching.Evaluate(0, r.Prompt, r.Tokens, corrupt, r.Metric);
            Assert.Equal(MetricKind.LogitDiff, r.Metric.Kind);
            Assert.Equal(config.NLayers * (r.Tokens.Length - first) * (1 + config.NHeads), e.Components.Length);
            Assert.Contains(e.Truth, t => Math.Abs(t) > 1e-3);
        }
    }
}
