using RelpSae.Lrp;
using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// The GPT-NeoX block's backward pass, branch by branch. With parallel attention and MLP both branches start from
/// the same gradient at resid_post and add into the gradient at resid_pre; sequential blocks run as GPT-2's.
/// LayerNorm, GELU (tanh or exact) and attention call the function <see cref="BackwardFunctions.Resolve"/>
/// picks from the rules and <see cref="Exact"/>.
/// </summary>
public sealed partial class GptNeoX
{
    internal override ExactGradients Exact => new(NormKind.LayerNorm, LayerNorm.Gradient, Config.ExactGelu ? GeluErf.Gradient : Gelu.Gradient);

    internal override float[] FinalNormScale => Weights.LnFGamma;

    internal override (float[] Hat, float[] Rstd, float[] Gamma) MlpNorm(BlockRun<GptNeoXActivations> run, int l) => (run.Layer(l).Ln2Hat, run.Layer(l).Ln2Rstd, Weights.Layers[l].Ln2Gamma);

    /// <summary>Through W_out, GELU, W_in and LN₂.</summary>
    internal override void MlpBackward(BlockRun<GptNeoXActivations> run, int l, float[] g, float[] dx, RowSet rows, BackwardFunctions f)
    {
        if (f.CutMlp) return;
        var (c, w, s, work) = (Config, Weights.Layers[l], run.Layer(l), Work(run));
        int k = rows.Count;
        w.FcOut.Transpose(rows.Gather(g, c.DModel, work.DNormed), c.DModel, k, work.DHidden, accumulate: false);
        RowSteps.ActivationBackward(rows, c.DMlp, s.Pre, s.Post, work.DHidden, work.DHidden, f.Activation);
        w.FcIn.Transpose(work.DHidden, c.DMlp, k, work.DNormed, accumulate: false);
        RowSteps.NormBackward(rows, f.Norm, work.DNormed, s.Ln2Hat, s.Ln2Rstd, w.Ln2Gamma, dx);
    }

    /// <summary>Through the dense output, attention, RoPE (rotated back), the fused Q | K | V map and LN₁.</summary>
    internal override float[] AttentionBackward(BlockRun<GptNeoXActivations> run, int l, float[] g, float[] dx, RowSet rows, BackwardFunctions f)
    {
        var (c, w, s, work) = (Config, Weights.Layers[l], run.Layer(l), Work(run));
        int n = run.Rows, d = c.DModel, T = run.Tokens;
        w.Dense.Transpose(rows.Gather(g, d, work.DNormed), rows, work.DZ, Pool);
        AttentionHeads.Backward(rows, s.Qkv, s.Pattern, work.DZ, work.DQkv, run.Batch, T, c.NHeads, c.DHead, f.Attention);
        rope.Apply(work.DQkv, 3 * d, n, T, c.NHeads, c.DHead, inverse: true);
        rope.Apply(work.DQkv.AsSpan(d), 3 * d, n, T, c.NHeads, c.DHead, inverse: true);
        w.Qkv.Transpose(work.DQkv, 3 * d, n, work.DNormed, accumulate: false);
        RowSteps.NormBackward(RowSet.All(n), f.Norm, work.DNormed, s.Ln1Hat, s.Ln1Rstd, w.Ln1Gamma, dx);
        return work.DZ;
    }

    private DenseBlockGradients Work(BlockRun<GptNeoXActivations> run) => run.BackwardWork(pool => new DenseBlockGradients(Facts, run.Rows, pool));
}
