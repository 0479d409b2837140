using RelpSae.Lrp;
using RelpSae.Numerics;

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
        var (dx, metricRows) = run.MetricGradient(metrics, f, model.Weights.LnFGamma);
        var work = run.BackwardWork(pool => new Work(c, run.Rows, pool));
        BackwardLoop.Run(c.NLayers, target, dx, run.Rows, metricRows, (l, g, rows) => Mlp(model, run, l, g, dx, rows, f, work),
            (l, g, rows) => SelfAttention(model, rope, run, l, g, dx, rows, f, work), work.DZ, record, c.ParallelResidual);
        return dx;
    }

    /// <summary>dx += the path of <paramref name="g"/> (the gradient at the MLP's output, non-zero on <paramref name="rows"/>) through the MLP and LN₂.</summary>
    private static void Mlp(GptNeoX model, BlockRun<GptNeoXActivations> run, int l, float[] g, float[] dx, RowSet rows, BackwardFunctions f, Work work)
    {
        var c = model.Config;
        var w = model.Weights.Layers[l];
        var s = run.Layer(l);
        int k = rows.Count, d = c.DModel;
        w.FcOut.Transpose(rows.Gather(g, d, work.DNormed), d, k, work.DPost, accumulate: false);
        RowSteps.ActivationBackward(rows, c.DMlp, s.Pre, s.Post, work.DPost, work.DPost, f.Activation);
        w.FcIn.Transpose(work.DPost, c.DMlp, k, work.DNormed, accumulate: false);
        RowSteps.NormBackward(rows, f.Norm, work.DNormed, s.Ln2Hat, s.Ln2Rstd, w.Ln2Gamma, dx);
    }

    /// <summary>dx += the path of <paramref name="g"/> (the gradient at attention's output, non-zero on <paramref name="rows"/>) through attention, RoPE and LN₁.</summary>
    private static void SelfAttention(GptNeoX model, Rope rope, BlockRun<GptNeoXActivations> run, int l, float[] g, float[] dx, RowSet rows,
        BackwardFunctions f, Work work)
    {
        var c = model.Config;
        var w = model.Weights.Layers[l];
        var s = run.Layer(l);
        int n = run.Rows, d = c.DModel, T = run.Tokens;
        w.Dense.Transpose(rows.Gather(g, d, work.DNormed), rows, work.DZ, model.Pool);
        AttentionHeads.Backward(rows, s.Qkv, s.Pattern, work.DZ, work.DQkv, run.Batch, T, c.NHeads, c.DHead, f.Attention);
        rope.Apply(work.DQkv, 3 * d, n, T, c.NHeads, c.DHead, inverse: true);
        rope.Apply(work.DQkv.AsSpan(d), 3 * d, n, T, c.NHeads, c.DHead, inverse: true);
        w.Qkv.Transpose(work.DQkv, 3 * d, n, work.DNormed, accumulate: false);
        RowSteps.NormBackward(RowSet.All(n), f.Norm, work.DNormed, s.Ln1Hat, s.Ln1Rstd, w.Ln1Gamma, dx);
    }

    /// <summary>Gradient buffers shared by every block of a backward pass (kept by the run for the next one).</summary>
    private sealed class Work : PooledBuffers
    {
        public readonly float[] DPost, DNormed, DZ, DQkv;

        public Work(GptNeoXConfig c, int rows, FloatPool pool) : base(pool)
        {
            long n = rows;
            DPost = Rent(n * c.DMlp); DNormed = Rent(n * c.DModel); DZ = Rent(n * c.DModel); DQkv = Rent(n * 3 * c.DModel);
        }
    }
}
