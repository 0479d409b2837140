using RelpSae.Lrp;
using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// The GPT-2 block's backward pass, in reverse. The operations a rule can replace (LayerNorm, GELU, attention)
/// call the function <see cref="BackwardFunctions.Resolve"/> picks from the rules and <see cref="Exact"/>.
/// Linear maps and residual adds are the plain gradient.
/// </summary>
internal static class Gpt2Backward
{
    /// <summary>The exact gradients of the GPT-2 block's LayerNorm and GELU.</summary>
    private static readonly ExactGradients Exact = new(NormKind.LayerNorm, LayerNorm.Gradient, Gelu.Gradient);

    public static float[] Run(Gpt2 model, BlockRun<Gpt2Activations> run, IReadOnlyList<Metric> metrics, HookPoint hook, PropagationRules rules,
        ComponentGradients? record = null)
    {
        var c = model.Config;
        int target = model.TargetDepth(run, hook);
        var f = BackwardFunctions.Resolve(rules, Exact);
        var (dx, metricRows) = run.MetricGradient(metrics, f, model.Weights.LnFGamma);
        var work = run.BackwardWork(pool => new Work(c, run.Rows, pool));
        BackwardLoop.Run(c.NLayers, target, dx, run.Rows, metricRows, (l, g, rows) => Mlp(model, run, l, g, rows, f, work),
            (l, g, rows) => SelfAttention(model, run, l, g, rows, f, work), work.DZ, record);
        return dx;
    }

    /// <summary>dx (the gradient at resid_post, non-zero on <paramref name="rows"/>) += its path through the MLP and LN₂.</summary>
    private static void Mlp(Gpt2 model, BlockRun<Gpt2Activations> run, int l, float[] dx, RowSet rows, BackwardFunctions f, Work work)
    {
        var c = model.Config;
        var w = model.Weights.Layers[l];
        var s = run.Layer(l);
        int k = rows.Count, d = c.DModel, m = c.DMlp;
        w.Proj.Transpose(rows.Gather(dx, d, work.DModel), d, k, work.DHidden, accumulate: false);
        RowSteps.ActivationBackward(rows, m, s.Pre, s.Post, work.DHidden, work.DHidden, f.Activation);
        w.Fc.Transpose(work.DHidden, m, k, work.DModel, accumulate: false);
        RowSteps.NormBackward(rows, f.Norm, work.DModel, s.Ln2Hat, s.Ln2Rstd, w.Ln2Gamma, dx);
    }

    /// <summary>dx (the gradient at resid_mid, non-zero on <paramref name="rows"/>) += its path through attention and LN₁.</summary>
    private static void SelfAttention(Gpt2 model, BlockRun<Gpt2Activations> run, int l, float[] dx, RowSet rows, BackwardFunctions f, Work work)
    {
        var c = model.Config;
        var w = model.Weights.Layers[l];
        var s = run.Layer(l);
        int n = run.Rows, d = c.DModel;
        w.O.Transpose(rows.Gather(dx, d, work.DModel), rows, work.DZ, model.Pool);
        AttentionHeads.Backward(rows, s.Qkv, s.Pattern, work.DZ, work.DQkv, run.Batch, run.Tokens, c.NHeads, c.DHead, f.Attention);
        w.Qkv.Transpose(work.DQkv, 3 * d, n, work.DModel, accumulate: false);
        RowSteps.NormBackward(RowSet.All(n), f.Norm, work.DModel, s.Ln1Hat, s.Ln1Rstd, w.Ln1Gamma, dx);
    }

    /// <summary>Gradient buffers shared by every block of a backward pass (kept by the run for the next one).</summary>
    private sealed class Work : PooledBuffers
    {
        public readonly float[] DHidden, DModel, DZ, DQkv;

        public Work(Gpt2Config c, int rows, FloatPool pool) : base(pool)
        {
            DHidden = Rent((long)rows * c.DMlp);
            DModel = Rent((long)rows * c.DModel);
            // dz of the last attention backward, kept until the next so that it can be recorded.
            DZ = Rent((long)rows * c.DModel);
            DQkv = Rent((long)rows * 3 * c.DModel);
        }
    }
}
