using RelpSae.Lrp;

namespace RelpSae.Model;

/// <summary>
/// The Gemma-2 block's backward pass, in reverse. The operations a rule can replace call the function
/// <see cref="BackwardFunctions.Resolve"/> picks from the rules and the exact gradients: every RMSNorm, the
/// post-norms included, the GELU gate, the gate·up product, attention (the score cap is inside the softmax, so
/// it follows the attention's rule) and the logits' cap (an elementwise map, as the GELU gate). Linear maps,
/// RoPE and residual adds are the plain gradient.
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
        var (dx, _) = run.MetricGradient(metrics, f, model.Weights.FinalNorm);
        var work = new Work(c, run.Rows);
        SequentialBackward.Run(c.NLayers, target, dx, l => Mlp(model, run, l, dx, f, work),
            l => SelfAttention(model, run, l, dx, f, work), work.DZ, record);
        return dx;
    }

    /// <summary>dx (the gradient at resid_post) += its path through the post-norm, the gated MLP and the pre-norm.</summary>
    private static void Mlp(Gemma2 model, BlockRun<Gemma2Activations> run, int l, float[] dx, BackwardFunctions f, Work work)
    {
        var c = model.Config;
        var w = model.Weights.Layers[l];
        var s = run.Layer(l);
        int n = run.Rows, d = c.DModel, m = c.DMlp;
        PostNorm(dx, s.Post2Hat, s.Post2Rstd, w.PostFeedforwardNorm, f.Norm, work, n, d);
        w.Down.Transpose(work.DRaw, d, n, work.DHidden, accumulate: false);
        f.Product!(s.Act, s.Up, work.DHidden, work.DAct, work.DUp);
        f.Activation(s.Gate, s.Act, work.DAct, work.DGate);
        w.Gate.Transpose(work.DGate, m, n, work.DNormed, accumulate: false);
        w.Up.Transpose(work.DUp, m, n, work.DNormed, accumulate: true);
        LayerNorm.BackwardRows(f.Norm, work.DNormed, s.Ln2Hat, s.Ln2Rstd, w.PreFeedforwardNorm, dx, n, work.Row);
    }

    /// <summary>dx (the gradient at resid_mid) += its path through the post-norm, grouped-query attention, RoPE and RMSNorm₁.</summary>
    private static void SelfAttention(Gemma2 model, BlockRun<Gemma2Activations> run, int l, float[] dx, BackwardFunctions f, Work work)
    {
        var c = model.Config;
        var w = model.Weights.Layers[l];
        var s = run.Layer(l);
        int n = run.Rows, d = c.DModel, T = run.Tokens;
        PostNorm(dx, s.Post1Hat, s.Post1Rstd, w.PostAttentionNorm, f.Norm, work, n, d);
        w.O.Transpose(work.DRaw, d, n, work.DZ, accumulate: false);
        AttentionHeads.Backward(s.Qkv, s.Pattern, work.DZ, work.DQkv, run.Batch, T, c.NHeads, c.DHead, f.Attention, model.Scores);
        model.Projections[l].Backward(work.DQkv, work.DK, work.DV, n, T, work.DNormed);
        LayerNorm.BackwardRows(f.Norm, work.DNormed, s.Ln1Hat, s.Ln1Rstd, w.InputNorm, dx, n, work.Row);
    }

    /// <summary>work.DRaw = the gradient at a branch's output before its post-norm, from dx, what the branch adds to.</summary>
    private static void PostNorm(float[] dx, float[] hat, float[] rstd, float[] gamma, NormBackward norm, Work work, int n, int d)
    {
        Array.Clear(work.DRaw, 0, n * d);
        LayerNorm.BackwardRows(norm, dx, hat, rstd, gamma, work.DRaw, n, work.Row);
    }

    /// <summary>Gradient buffers shared by every block of one backward pass.</summary>
    private sealed class Work(Gemma2Config c, int rows)
    {
        public readonly float[] DHidden = new float[rows * c.DMlp], DAct = new float[rows * c.DMlp], DUp = new float[rows * c.DMlp],
            DGate = new float[rows * c.DMlp], DNormed = new float[rows * c.DModel], DRaw = new float[rows * c.DModel],
            DZ = new float[rows * c.DAttention], DQkv = new float[rows * 3 * c.DAttention], DK = new float[rows * c.DKv],
            DV = new float[rows * c.DKv], Row = new float[c.DModel];
    }
}
