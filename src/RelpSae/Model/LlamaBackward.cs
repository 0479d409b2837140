using RelpSae.Lrp;
using RelpSae.Numerics;

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
        var (dx, metricRows) = run.MetricGradient(metrics, f, model.Weights.FinalNorm);
        var work = run.BackwardWork(pool => new Work(c, run.Rows, pool));
        BackwardLoop.Run(c.NLayers, target, dx, run.Rows, metricRows, (l, g, rows) => Mlp(model, run, l, g, rows, f, work),
            (l, g, rows) => SelfAttention(model, run, l, g, rows, f, work), work.DZ, record);
        return dx;
    }

    /// <summary>dx (the gradient at resid_post, non-zero on <paramref name="rows"/>) += its path through the gated MLP and RMSNorm₂.</summary>
    private static void Mlp(Llama model, BlockRun<LlamaActivations> run, int l, float[] dx, RowSet rows, BackwardFunctions f, Work work)
    {
        var c = model.Config;
        var w = model.Weights.Layers[l];
        var s = run.Layer(l);
        int k = rows.Count, d = c.DModel, m = c.DMlp;
        w.Down.Transpose(rows.Gather(dx, d, work.DNormed), d, k, work.DHidden, accumulate: false);
        RowSteps.ProductBackward(rows, m, s.Act, s.Up, work.DHidden, work.DAct, work.DUp, f.Product!);
        RowSteps.ActivationBackward(rows, m, s.Gate, s.Act, work.DAct, work.DGate, f.Activation);
        w.Gate.Transpose(work.DGate, m, k, work.DNormed, accumulate: false);
        w.Up.Transpose(work.DUp, m, k, work.DNormed, accumulate: true);
        RowSteps.NormBackward(rows, f.Norm, work.DNormed, s.Ln2Hat, s.Ln2Rstd, w.PostAttentionNorm, dx);
    }

    /// <summary>dx (the gradient at resid_mid, non-zero on <paramref name="rows"/>) += its path through grouped-query attention, RoPE and RMSNorm₁.</summary>
    private static void SelfAttention(Llama model, BlockRun<LlamaActivations> run, int l, float[] dx, RowSet rows, BackwardFunctions f, Work work)
    {
        var c = model.Config;
        var w = model.Weights.Layers[l];
        var s = run.Layer(l);
        int n = run.Rows, d = c.DModel, T = run.Tokens;
        w.O.Transpose(rows.Gather(dx, d, work.DNormed), rows, work.DZ, model.Pool);
        AttentionHeads.Backward(rows, s.Qkv, s.Pattern, work.DZ, work.DQkv, run.Batch, T, c.NHeads, c.DHead, f.Attention);
        model.Projections[l].Backward(work.DQkv, work.DK, work.DV, n, T, work.DNormed);
        RowSteps.NormBackward(RowSet.All(n), f.Norm, work.DNormed, s.Ln1Hat, s.Ln1Rstd, w.InputNorm, dx);
    }

    /// <summary>Gradient buffers shared by every block of a backward pass (kept by the run for the next one).</summary>
    private sealed class Work : PooledBuffers
    {
        public readonly float[] DHidden, DAct, DUp, DGate, DNormed, DZ, DQkv, DK, DV;

        public Work(LlamaConfig c, int rows, FloatPool pool) : base(pool)
        {
            long n = rows, m = c.DMlp;
            DHidden = Rent(n * m); DAct = Rent(n * m); DUp = Rent(n * m); DGate = Rent(n * m);
            DNormed = Rent(n * c.DModel); DZ = Rent(n * c.DAttention); DQkv = Rent(n * 3 * c.DAttention); DK = Rent(n * c.DKv); DV = Rent(n * c.DKv);
        }
    }
}
