using RelpSae.Lrp;

namespace RelpSae.Model;

/// <summary>
/// The GPT-NeoX block's backward pass. With parallel attention and MLP both paths start from the same
/// gradient at resid_post and add into the gradient at resid_pre; sequential blocks run as GPT-2's.
/// LayerNorm, GELU (tanh or exact) and attention call the function <see cref="BackwardFunctions.Resolve"/>
/// picks from the rules and the exact gradients.
/// </summary>
internal static class GptNeoXBackward
{
    public static float[] Run(GptNeoX model, Rope rope, BlockRun<GptNeoXActivations> run, IReadOnlyList<Metric> metrics, HookPoint hook, PropagationRules rules,
        ComponentGradients? record = null)
    {
        var c = model.Config;
        int target = model.TargetDepth(run, hook);
        var f = BackwardFunctions.Resolve(rules, new ExactGradients(NormKind.LayerNorm, LayerNorm.Gradient, c.ExactGelu ? GeluErf.Gradient : Gelu.Gradient));
        var (dx, _) = run.MetricGradient(metrics, f, model.Weights.LnFGamma);
        var work = new Work(c, run.Rows);
        for (int l = c.NLayers - 1; 2 * l + 2 > target; l--)
        {
            // Parallel: both branches read the gradient at resid_post, so it is kept apart from dx.
            var g = c.ParallelResidual ? (float[])dx.Clone() : dx;
            if (record is not null) ComponentGradients.Record(record.MlpOut, l, dx, dx.Length);
            Mlp(model, run, l, g, dx, f, work);
            // Parallel: attention's output adds into resid_post, so its coefficient is g, resid_post's; else resid_mid's.
            if (record is not null) ComponentGradients.Record(record.AttnOut, l, g, g.Length);
            if (2 * l + 1 == target) break;
            SelfAttention(model, rope, run, l, g, dx, f, work);
            if (record is not null)
            {
                ComponentGradients.Record(record.Z, l, work.DZ, work.DZ.Length);
                ComponentGradients.Record(record.ResidPre, l, dx, dx.Length);
            }
        }
        return dx;
    }

    /// <summary>dx += the path of <paramref name="g"/> (the gradient at the MLP's output) through the MLP and LN₂.</summary>
    private static void Mlp(GptNeoX model, BlockRun<GptNeoXActivations> run, int l, float[] g, float[] dx, BackwardFunctions f, Work work)
    {
        var c = model.Config;
        var w = model.Weights.Layers[l];
        var s = run.Layer(l);
        int n = run.Rows, d = c.DModel;
        w.FcOut.Transpose(g, d, n, work.DPost, accumulate: false);
        f.Activation(s.Pre, s.Post, work.DPost, work.DPost);
        w.FcIn.Transpose(work.DPost, c.DMlp, n, work.DNormed, accumulate: false);
        LayerNorm.BackwardRows(f.Norm, work.DNormed, s.Ln2Hat, s.Ln2Rstd, w.Ln2Gamma, dx, n, work.Row);
    }

    /// <summary>dx += the path of <paramref name="g"/> (the gradient at attention's output) through attention, RoPE and LN₁.</summary>
    private static void SelfAttention(GptNeoX model, Rope rope, BlockRun<GptNeoXActivations> run, int l, float[] g, float[] dx, BackwardFunctions f,
        Work work)
    {
        var c = model.Config;
        var w = model.Weights.Layers[l];
        var s = run.Layer(l);
        int n = run.Rows, d = c.DModel, T = run.Tokens;
        w.Dense.Transpose(g, d, n, work.DZ, accumulate: false);
        AttentionHeads.Backward(s.Qkv, s.Pattern, work.DZ, work.DQkv, run.Batch, T, c.NHeads, c.DHead, f.Attention);
        rope.Apply(work.DQkv, 3 * d, n, T, c.NHeads, c.DHead, inverse: true);
        rope.Apply(work.DQkv.AsSpan(d), 3 * d, n, T, c.NHeads, c.DHead, inverse: true);
        w.Qkv.Transpose(work.DQkv, 3 * d, n, work.DNormed, accumulate: false);
        LayerNorm.BackwardRows(f.Norm, work.DNormed, s.Ln1Hat, s.Ln1Rstd, w.Ln1Gamma, dx, n, work.Row);
    }

    private sealed class Work(GptNeoXConfig c, int rows)
    {
        public readonly float[] DPost = new float[rows * c.DMlp], DNormed = new float[rows * c.DModel], DZ = new float[rows * c.DModel],
            DQkv = new float[rows * 3 * c.DModel], Row = new float[c.DModel];
    }
}
