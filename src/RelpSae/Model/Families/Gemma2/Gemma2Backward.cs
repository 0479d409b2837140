using RelpSae.Lrp;
using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// The Gemma-2 block's backward pass, branch by branch. The operations a rule can replace call the function
/// <see cref="BackwardFunctions.Resolve"/> picks from the rules and <see cref="Exact"/>: every RMSNorm, the
/// post-norms included, the GELU gate, the gate·up product, attention (the score cap is inside the softmax, so
/// it follows the attention's rule) and the logits' cap (an elementwise activation). Linear maps, RoPE and
/// residual adds are the plain gradient.
/// </summary>
public partial class Gemma2
{
    internal override ExactGradients Exact => new(NormKind.RmsNorm, RmsNorm.Gradient, Gelu.Gradient, GatedProduct.Gradient, LogitSoftcap.Gradient);

    internal override float[] FinalNormScale => Weights.FinalNorm;

    internal override (float[] Hat, float[] Rstd, float[] Gamma) MlpNorm(BlockRun<Gemma2Activations> run, int l) => (run.Layer(l).Ln2Hat, run.Layer(l).Ln2Rstd, Weights.Layers[l].PreFeedforwardNorm);

    /// <summary>Through the post-norm, the gated MLP and the pre-norm.</summary>
    internal override void MlpBackward(BlockRun<Gemma2Activations> run, int l, float[] g, float[] dx, RowSet rows, BackwardFunctions f)
    {
        if (f.CutMlp) return;
        var (w, s, work) = (Weights.Layers[l], run.Layer(l), Work(run));
        PostNorm(g, rows, s.Post2Hat, s.Post2Rstd, w.PostFeedforwardNorm, f, work);
        Mlps[l].Backward(work.DRaw, rows, s.Mlp, f, work.Mlp, work.DNormed);
        RowSteps.NormBackward(rows, f.Norm, work.DNormed, s.Ln2Hat, s.Ln2Rstd, w.PreFeedforwardNorm, dx);
    }

    /// <summary>Through the post-norm, W_o, grouped-query attention, RoPE and RMSNorm₁.</summary>
    internal override float[] AttentionBackward(BlockRun<Gemma2Activations> run, int l, float[] g, float[] dx, RowSet rows, BackwardFunctions f)
    {
        var (w, s, work) = (Weights.Layers[l], run.Layer(l), Work(run));
        int n = run.Rows, T = run.Tokens;
        PostNorm(g, rows, s.Post1Hat, s.Post1Rstd, w.PostAttentionNorm, f, work);
        w.Maps.O.Transpose(work.DRaw, rows, work.DZ, Pool);
        AttentionHeads.Backward(rows, s.Qkv, s.Pattern, work.DZ, work.DQkv, run.Batch, T, Config.NHeads, Config.DHead, f.Attention, Scores[l]);
        QueriesKeysValuesBackward(run, l, f, work);
        RowSteps.NormBackward(RowSet.All(n), f.Norm, work.DNormed, s.Ln1Hat, s.Ln1Rstd, w.InputNorm, dx);
        return work.DZ;
    }

    /// <summary>work.DNormed = the gradient at the normed rows from work.DQkv, the fused rows' (which it overwrites).</summary>
    private protected virtual void QueriesKeysValuesBackward(BlockRun<Gemma2Activations> run, int l, BackwardFunctions f, BackwardWork work) =>
        Projections[l].Backward(work.DQkv, work.DK, work.DV, run.Rows, run.Tokens, work.DNormed);

    /// <summary>work.DRaw (packed rows) = the gradient at a branch's output before its post-norm, from g, the gradient at what it adds.</summary>
    private void PostNorm(float[] g, RowSet rows, float[] hat, float[] rstd, float[] gamma, BackwardFunctions f, BackwardWork work)
    {
        Array.Clear(work.DRaw, 0, rows.Count * Config.DModel);
        RowSteps.NormBackwardPacked(rows, f.Norm, rows.Gather(g, Config.DModel, work.DNormed), hat, rstd, gamma, work.DRaw);
    }

    private BackwardWork Work(BlockRun<Gemma2Activations> run) => run.BackwardWork(pool => new BackwardWork(Config, run.Rows, pool));

    /// <summary>Gradient buffers shared by every block of a backward pass (kept by the run for the next one).</summary>
    private protected sealed class BackwardWork : PooledBuffers
    {
        public readonly GatedMlp.Gradients Mlp;
        public readonly float[] DNormed, DRaw, DZ, DQkv, DK, DV;

        public BackwardWork(Gemma2Config c, int rows, FloatPool pool) : base(pool)
        {
            long n = rows;
            Mlp = new GatedMlp.Gradients(Rent(n * c.DMlp), Rent(n * c.DMlp), Rent(n * c.DMlp), Rent(n * c.DMlp));
            DNormed = Rent(n * c.DModel); DRaw = Rent(n * c.DModel); DZ = Rent(n * c.DAttention); DQkv = Rent(n * 3 * c.DAttention);
            DK = Rent(n * c.DKv); DV = Rent(n * c.DKv);
        }
    }
}
