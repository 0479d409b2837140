using RelpSae.Lrp;
using RelpSae.Model;
using RelpSae.Tests.Model;

namespace RelpSae.Tests.Lrp;

/// <summary>Presets pinned to their closed forms on a small random GPT-2 (docs/methods.md §4; attnlrp's ½/¼ split: BackwardTests).</summary>
public class PresetTests
{
    private const int T = 5;
    private static readonly Metric LogitDiff = new(MetricKind.LogitDiff, Target: 3, Foil: 11);

    private static (Gpt2 Model, BlockRun<Gpt2Activations> Run) Clean()
    {
        var model = TinyModels.Create(seed: 6);
        var hooks = Enumerable.Range(0, model.Config.NLayers).SelectMany(l => new[] { new HookPoint(HookKind.ResidPre, l), new HookPoint(HookKind.AttnPattern, l) }).ToArray();
        return (model, model.Forward(TinyModels.Tokens(1, T), 1, new RunOptions { KeepForBackward = true, Cache = hooks, Logits = LogitRows.None }));
    }

    /// <summary>The seed's Half-rule acts only on a gated MLP's product: on GPT-2, relp is LN + Identity with exact attention.</summary>
    [Fact]
    public void RelpIsLnPlusIdentityOnGpt2()
    {
        var (_, run) = Clean();
        var hook = new HookPoint(HookKind.ResidPre, 0);
        var relp = run.Backward(LogitDiff, hook, PropagationRules.RelP);
        Assert.Equal(run.Backward(LogitDiff, hook, PropagationRules.Parse("ln,identity")), relp);
        Assert.NotEqual(run.Backward(LogitDiff, hook, PropagationRules.AttnLrp), relp);
    }

    /// <summary>
    /// relp-ah at the last block's resid_pre: the pattern frozen, only the value path passes through
    /// attention, so g = g_mid + LN1-rule(Σ_h (A_hᵀ dz_h)·W_V,hᵀ), written out here in double precision.
    /// </summary>
    [Fact]
    public void RelpAhIsTheFrozenPatternClosedForm()
    {
        var (model, run) = Clean();
        var c = model.Config;
        int L = c.NLayers - 1, d = c.DModel, dh = c.DHead;
        var record = run.ComponentBackward([LogitDiff], PropagationRules.RelPAh);
        var (gMid, dz) = (record.AttnOut[L]!, record.Z[L]!);
        var pattern = run.Cached(new HookPoint(HookKind.AttnPattern, L));
        var x = run.Cached(new HookPoint(HookKind.ResidPre, L));
        var w = model.Weights.Layers[L];
        var expected = new double[T * d];
        for (int t = 0; t < T; t++)
        {
            // dv[t] = Σ_s A[s, t]·dz[s], head by head; then through W_V into LN1's output.
            var dv = new double[d];
            for (int h = 0; h < c.NHeads; h++)
                for (int s = t; s < T; s++)
                    for (int j = 0; j < dh; j++)
                        dv[h * dh + j] += pattern[(h * T + s) * T + t] * dz[s * d + h * dh + j];
            var gg = new double[d];
            var qkv = w.Qkv.InOut();
            for (int i = 0; i < d; i++)
            {
                double da = 0;
                for (int j = 0; j < d; j++) da += qkv[i * 3 * d + 2 * d + j] * dv[j];
                gg[i] = w.Ln1Gamma[i] * da;
            }
            double mean = gg.Average(), mu = 0, variance = 0;
            for (int i = 0; i < d; i++) mu += x[t * d + i] / d;
            for (int i = 0; i < d; i++) variance += (x[t * d + i] - mu) * (x[t * d + i] - mu) / d;
            double rstd = 1 / Math.Sqrt(variance + c.LayerNormEps);
            for (int i = 0; i < d; i++) expected[t * d + i] = gMid[t * d + i] + (gg[i] - mean) * rstd;
        }
        AssertClose(expected, record.ResidPre[L]!);
    }

    private static void AssertClose(double[] expected, float[] actual)
    {
        double error = 0, norm = 0;
        for (int i = 0; i < expected.Length; i++)
        {
            error += (expected[i] - actual[i]) * (expected[i] - actual[i]);
            norm += expected[i] * expected[i];
        }
        Assert.True(norm > 1e-6, "the gradient should not vanish");
        Assert.True(Math.Sqrt(error / norm) < 1e-5, $"relative L2 error {Math.Sqrt(error / norm):E2}");
    }
}
