using RelpSae.Attribution;
using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Tests.Attribution;

/// <summary>
/// Component coefficients and patches on every family's fixtures: the coefficient one backward pass
/// records at each component (hook_resid_pre, hook_attn_out, hook_mlp_out, a head's slice of hook_z)
/// is the derivative of the metric along a patch of that component, by central differences. This pins
/// parallel attention (attn_out's coefficient is resid_post's) and grouped-query heads (a query head's
/// own slice of z, its keys and values shared).
/// </summary>
public class FamilyComponentTests
{
    public static TheoryData<string> Models => Families.Folders();

    [Theory]
    [MemberData(nameof(Models))]
    public void RecordedCoefficientsAreTheDerivativesAlongPatches(string name)
    {
        var model = Families.Named(name).Load();
        var f = model.Facts;
        int T = Math.Min(6, f.Context);
        var tokens = Enumerable.Range(0, T).Select(i => (7 * i + 3) % f.VocabSize).ToArray();
        var metric = new Metric(MetricKind.LogitDiff, 5 % f.VocabSize, 11 % f.VocabSize);
        var hooks = Enumerable.Range(0, f.NLayers).SelectMany(l => Component.Kinds.Select(k => new HookPoint(Component.HookKindOf(k), l))).ToArray();
        using var clean = model.Forward(tokens, 1, new RunOptions { KeepForBackward = true, Cache = hooks, Logits = LogitRows.None });
        var g = clean.ComponentBackward([metric], PropagationRules.Gradient);
        var rng = new Random(5);
        int last = f.NLayers - 1;
        foreach (var k in new[]
                 {
                     new Component(ComponentKind.ResidPre, 0, 1), new Component(ComponentKind.AttnOut, 0, T - 2),
                     new Component(ComponentKind.MlpOut, last, T - 1), new Component(ComponentKind.Head, 0, T - 1, f.NHeads - 1),
                     new Component(ComponentKind.Head, last, T - 2, 1),
                 })
        {
            var dir = Enumerable.Range(0, k.Width(f)).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var value = clean.Cached(k.Hook).AsSpan(k.Offset(f), k.Width(f)).ToArray();
            var coefficient = g.At(k.Hook).AsSpan(k.Offset(f), k.Width(f));
            double predicted = 0;
            for (int i = 0; i < dir.Length; i++) predicted += (double)coefficient[i] * dir[i];
            const float eps = 1e-2f;
            double Patched(float sign)
            {
                var v = value.Select((x, i) => x + sign * eps * dir[i]).ToArray();
                using var run = model.Forward(tokens, 1, new RunOptions { Logits = LogitRows.None, Patches = [new ActivationPatch(k.Hook, k.Position, k.Column(f), v)] });
                return run.MetricValues(metric)[0];
            }
            double measured = (Patched(1) - Patched(-1)) / (2 * eps);
            Assert.True(Math.Abs(measured - predicted) <= 2e-2 * Math.Max(1, Math.Abs(measured)), $"{name} {k}: backward {predicted}, differences {measured}");
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ResidualCoefficientsAreTheBackwardPassAtEachHook(string name)
    {
        var model = Families.Named(name).Load();
        var f = model.Facts;
        var tokens = new[] { 1, 4, 9, 16 % f.VocabSize, 2 };
        var metric = new Metric(MetricKind.Logit, 3);
        using var run = model.Forward(tokens, 1, new RunOptions { KeepForBackward = true, Logits = LogitRows.None });
        var g = run.ComponentBackward([metric], PropagationRules.RelP);
        for (int l = 0; l < f.NLayers; l++)
        {
            Assert.Equal(run.Backward(metric, new HookPoint(HookKind.ResidPre, l), PropagationRules.RelP), g.At(new HookPoint(HookKind.ResidPre, l)));
            Assert.Equal(run.Backward(metric, new HookPoint(HookKind.MlpOut, l), PropagationRules.RelP), g.At(new HookPoint(HookKind.MlpOut, l)));
            Assert.Equal(run.Backward(metric, new HookPoint(HookKind.AttnOut, l), PropagationRules.RelP), g.At(new HookPoint(HookKind.AttnOut, l)));
        }
    }
}
