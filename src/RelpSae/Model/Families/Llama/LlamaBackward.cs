using RelpSae.Lrp;
using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// The Llama block's backward pass, branch by branch. The operations a rule can replace call the function
/// <see cref="BackwardFunctions.Resolve"/> picks from the rules and <see cref="Exact"/>: RMSNorm, SiLU, the
/// gate·up product, attention. Linear maps, RoPE (a fixed rotation) and residual adds are the plain gradient.
/// </summary>
public partial class Llama
{
    /// <summary>The exact gradients of the Llama block's RMSNorm, SiLU and gate·up product.</summary>
    internal override ExactGradients Exact { get; } = new(NormKind.RmsNorm, RmsNorm.Gradient, Silu.Gradient, GatedProduct.Gradient);

    internal override float[] FinalNormScale => Weights.FinalNorm;

    internal override (float[] Hat, float[] Rstd, float[] Gamma) MlpNorm(BlockRun<LlamaActivations> run, int l) => (run.Layer(l).Ln2Hat, run.Layer(l).Ln2Rstd, Weights.Layers[l].PostAttentionNorm);

    /// <summary>Through the gated MLP and RMSNorm₂.</summary>
    internal override void MlpBackward(BlockRun<LlamaActivations> run, int l, float[] g, float[] dx, RowSet rows, BackwardFunctions f)
    {
        if (f.CutMlp) return;
        var (w, s, work) = (Weights.Layers[l], run.Layer(l), Work(run));
        Mlps[l].Backward(rows.Gather(g, Config.DModel, work.DNormed), rows, s.Mlp, f, work.Mlp, work.DNormed);
        RowSteps.NormBackward(rows, f.Norm, work.DNormed, s.Ln2Hat, s.Ln2Rstd, w.PostAttentionNorm, dx);
    }

    /// <summary>Through W_o, grouped-query attention, RoPE and RMSNorm₁.</summary>
    internal override float[] AttentionBackward(BlockRun<LlamaActivations> run, int l, float[] g, float[] dx, RowSet rows, BackwardFunctions f)
    {
        var (w, s, work) = (Weights.Layers[l], run.Layer(l), Work(run));
        int n = run.Rows, T = run.Tokens;
        w.Maps.O.Transpose(rows.Gather(g, Config.DModel, work.DNormed), rows, work.DZ, Pool);
        AttentionHeads.Backward(rows, s.Qkv, s.Pattern, work.DZ, work.DQkv, run.Batch, T, Config.NHeads, Config.DHead, f.Attention);
        QueriesKeysValuesBackward(run, l, f, work);
        RowSteps.NormBackward(RowSet.All(n), f.Norm, work.DNormed, s.Ln1Hat, s.Ln1Rstd, w.InputNorm, dx);
        return work.DZ;
    }

    /// <summary>work.DNormed = the gradient at the normed rows from work.DQkv, the fused rows' (which it overwrites).</summary>
    private protected virtual void QueriesKeysValuesBackward(BlockRun<LlamaActivations> run, int l, BackwardFunctions f, BackwardWork work) =>
        Projections[l].Backward(work.DQkv, work.DK, work.DV, run.Rows, run.Tokens, work.DNormed);

    private BackwardWork Work(BlockRun<LlamaActivations> run) => run.BackwardWork(pool => new BackwardWork(Config, run.Rows, pool));

    /// <summary>Gradient buffers shared by every block of a backward pass (kept by the run for the next one).</summary>
    private protected sealed class BackwardWork : PooledBuffers
    {
        public readonly GatedMlp.Gradients Mlp;
        public readonly float[] DNormed, DZ, DQkv, DK, DV;

        public BackwardWork(LlamaConfig c, int rows, FloatPool pool) : base(pool)
        {
            long n = rows;
            Mlp = new GatedMlp.Gradients(Rent(n * c.DMlp), Rent(n * c.DMlp), Rent(n * c.DMlp), Rent(n * c.DMlp));
            DNormed = Rent(n * c.DModel); DZ = Rent(n * c.DAttention); DQkv = Rent(n * 3 * c.DAttention); DK = Rent(n * c.DKv); DV = Rent(n * c.DKv);
        }
    }
}
