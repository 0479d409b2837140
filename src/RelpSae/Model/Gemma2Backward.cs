using RelpSae.Lrp;
using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// The Gemma-2 block's backward pass, in reverse. The operations a rule can replace call the function
/// <see cref="BackwardFunctions.Resolve"/> picks from the rules and the exact gradients: every RMSNorm, the
/// post-norms included, the GELU gate, the gate·up product, attention (the score cap is inside the softmax, so
/// it follows the attention's rule) and the logits' cap (an elementwise activation). Linear maps, RoPE and
/// residual adds are the plain gradient.
/// </summary>
internal static class Gemma2Backward
{
    public static float[] Run(Gemma2 model, BlockRun<Gemma2Activations> run, IReadOnlyList<Metric> metrics, HookPoint hook,
        PropagationRules rules, ComponentGradients? record = null)
    {
        var c = model.Config;
        int target = model.TargetDepth(run, hook);
        var f = BackwardFunctions.Resolve(rules, new ExactGradients(NormKind.RmsNorm, RmsNorm.Gradient, Gelu.Gradient, GatedProduct.Gradient,
            model.LogitSoftcap.Gradient));
        var (dx, metricRows) = run.MetricGradient(metrics, f, model.Weights.FinalNorm);
        var work = run.BackwardWork(pool => new Work(c, run.Rows, pool));
        BackwardLoop.Run(c.NLayers, target, dx, run.Rows, metricRows, (l, g, rows) => Mlp(model, run, l, g, rows, f, work),
            (l, g, rows) => SelfAttention(model, run, l, g, rows, f, work), work.DZ, record);
        return dx;
    }

    /// <summary>dx (the gradient at resid_post, non-zero on <paramref name="rows"/>) += its path through the post-norm, the gated MLP and the pre-norm.</summary>
    private static void Mlp(Gemma2 model, BlockRun<Gemma2Activations> run, int l, float[] dx, RowSet rows, BackwardFunctions f, Work work)
    {
        var c = model.Config;
        var w = model.Weights.Layers[l];
        var s = run.Layer(l);
        int k = rows.Count, d = c.DModel, m = c.DMlp;
        PostNorm(dx, rows, s.Post2Hat, s.Post2Rstd, w.PostFeedforwardNorm, f.Norm, work, d);
        w.Down.Transpose(work.DRaw, d, k, work.DHidden, accumulate: false);
        RowSteps.ProductBackward(rows, m, s.Act, s.Up, work.DHidden, work.DAct, work.DUp, f.Product!);
        RowSteps.ActivationBackward(rows, m, s.Gate, s.Act, work.DAct, work.DGate, f.Activation);
        w.Gate.Transpose(work.DGate, m, k, work.DNormed, accumulate: false);
        w.Up.Transpose(work.DUp, m, k, work.DNormed, accumulate: true);
        RowSteps.NormBackward(rows, f.Norm, work.DNormed, s.Ln2Hat, s.Ln2Rstd, w.PreFeedforwardNorm, dx);
    }

    /// <summary>dx (the gradient at resid_mid, non-zero on <paramref name="rows"/>) += its path through the post-norm, grouped-query attention, RoPE and RMSNorm₁.</summary>
    private static void SelfAttention(Gemma2 model, BlockRun<Gemma2Activations> run, int l, float[] dx, RowSet rows, BackwardFunctions f, Work work)
    {
        var c = model.Config;
        var w = model.Weights.Layers[l];
        var s = run.Layer(l);
        int n = run.Rows, d = c.DModel, T = run.Tokens;
        PostNorm(dx, rows, s.Post1Hat, s.Post1Rstd, w.PostAttentionNorm, f.Norm, work, d);
        w.O.Transpose(work.DRaw, rows, work.DZ, model.Pool);
        AttentionHeads.Backward(rows, s.Qkv, s.Pattern, work.DZ, work.DQkv, run.Batch, T, c.NHeads, c.DHead, f.Attention, model.Scores);
        model.Projections[l].Backward(work.DQkv, work.DK, work.DV, n, T, work.DNormed);
        RowSteps.NormBackward(RowSet.All(n), f.Norm, work.DNormed, s.Ln1Hat, s.Ln1Rstd, w.InputNorm, dx);
    }

    /// <summary>work.DRaw (packed rows) = the gradient at a branch's output before its post-norm, from dx, what the branch adds to.</summary>
    private static void PostNorm(float[] dx, RowSet rows, float[] hat, float[] rstd, float[] gamma, NormBackward norm, Work work, int d)
    {
        Array.Clear(work.DRaw, 0, rows.Count * d);
        RowSteps.NormBackwardPacked(rows, norm, rows.Gather(dx, d, work.DNormed), hat, rstd, gamma, work.DRaw);
    }

    /// <summary>Gradient buffers shared by every block of a backward pass (kept by the run for the next one).</summary>
    private sealed class Work : PooledBuffers
    {
        public readonly float[] DHidden, DAct, DUp, DGate, DNormed, DRaw, DZ, DQkv, DK, DV;

        public Work(Gemma2Config c, int rows, FloatPool pool) : base(pool)
        {
            long n = rows, m = c.DMlp;
            DHidden = Rent(n * m); DAct = Rent(n * m); DUp = Rent(n * m); DGate = Rent(n * m);
            DNormed = Rent(n * c.DModel); DRaw = Rent(n * c.DModel); DZ = Rent(n * c.DAttention); DQkv = Rent(n * 3 * c.DAttention);
            DK = Rent(n * c.DKv); DV = Rent(n * c.DKv);
        }
    }
}
