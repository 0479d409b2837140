using RelpSae.Lrp;

namespace RelpSae.Model;

/// <summary>
/// The Llama block's backward pass, in reverse. The operations a rule can replace call the function
/// <see cref="BackwardFunctions.Resolve"/> picks from the rules and <see cref="Exact"/>: RMSNorm, SiLU, the
/// gate·up product, attention. Linear maps, RoPE (a fixed rotation) and residual adds are the plain gradient.
/// </summary>
internal static class LlamaBackward
{
    /// <summary>The exact gradients of the Llama block's RMSNorm, SiLU and gate·up product.</summary>
    private static readonly ExactGradients Exact = new(NormKind.RmsNorm, RmsNorm.Gradient, Silu.Gradient, GatedProduct.Gradient);

    public static float[] Run(Llama model, BlockRun<LlamaActivations> run, IReadOnlyList<Metric> metrics, HookPoint hook, PropagationRules rules,
        ComponentGradients? record = null)
    {
        var c = model.Config;
        int target = model.TargetDepth(run, hook);
        var f = BackwardFunctions.Resolve(rules, Exact);
        var (dx, _) = run.MetricGradient(metrics, f, model.Weights.FinalNorm);
        var work = new Work(c, run.Rows);
        SequentialBackward.Run(c.NLayers, target, dx, l => Mlp(model, run, l, dx, f, work),
            l => SelfAttention(model, run, l, dx, f, work), work.DZ, record);
        return dx;
    }

    /// <summary>dx (the gradient at resid_post) += its path through the gated MLP and RMSNorm₂.</summary>
    private static void Mlp(Llama model, BlockRun<LlamaActivations> run, int l, float[] dx, BackwardFunctions f, Work work)
    {
        var c = model.Config;
        var w = model.Weights.Layers[l];
        var s = run.Layer(l);
        int n = run.Rows, d = c.DModel, m = c.DMlp;
        w.Down.Transpose(dx, d, n, work.DHidden, accumulate: false);
        f.Product!(s.Act, s.Up, work.DHidden, work.DAct, work.DUp);
        f.Activation(s.Gate, s.Act, work.DAct, work.DGate);
        w.Gate.Transpose(work.DGate, m, n, work.DNormed, accumulate: false);
        w.Up.Transpose(work.DUp, m, n, work.DNormed, accumulate: true);
        LayerNorm.BackwardRows(f.Norm, work.DNormed, s.Ln2Hat, s.Ln2Rstd, w.PostAttentionNorm, dx, n, work.Row);
    }

    /// <summary>dx (the gradient at resid_mid) += its path through grouped-query attention, RoPE and RMSNorm₁.</summary>
    private static void SelfAttention(Llama model, BlockRun<LlamaActivations> run, int l, float[] dx, BackwardFunctions f, Work work)
    {
        var c = model.Config;
        var w = model.Weights.Layers[l];
        var s = run.Layer(l);
        int n = run.Rows, d = c.DModel, T = run.Tokens;
        w.O.Transpose(dx, d, n, work.DZ, accumulate: false);
        AttentionHeads.Backward(s.Qkv, s.Pattern, work.DZ, work.DQkv, run.Batch, T, c.NHeads, c.DHead, f.Attention);
        model.Projections[l].Backward(work.DQkv, work.DK, work.DV, n, T, work.DNormed);
        LayerNorm.BackwardRows(f.Norm, work.DNormed, s.Ln1Hat, s.Ln1Rstd, w.InputNorm, dx, n, work.Row);
    }

    /// <summary>Gradient buffers shared by every block of one backward pass.</summary>
    private sealed class Work(LlamaConfig c, int rows)
    {
        public readonly float[] DHidden = new float[rows * c.DMlp], DAct = new float[rows * c.DMlp], DUp = new float[rows * c.DMlp],
            DGate = new float[rows * c.DMlp], DNormed = new float[rows * c.DModel], DZ = new float[rows * c.DAttention],
            DQkv = new float[rows * 3 * c.DAttention], DK = new float[rows * c.DKv], DV = new float[rows * c.DKv], Row = new float[c.DModel];
    }
}
