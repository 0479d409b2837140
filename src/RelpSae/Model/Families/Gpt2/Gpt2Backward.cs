using RelpSae.Lrp;
using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// The GPT-2 block's backward pass, branch by branch. The operations a rule can replace (LayerNorm, GELU, attention)
/// call the function <see cref="BackwardFunctions.Resolve"/> picks from the rules and <see cref="Exact"/>.
/// Linear maps and residual adds are the plain gradient.
/// </summary>
public sealed partial class Gpt2
{
    /// <summary>The exact gradients of the GPT-2 block's LayerNorm and GELU.</summary>
    internal override ExactGradients Exact { get; } = new(NormKind.LayerNorm, LayerNorm.Gradient, Gelu.Gradient);

    internal override float[] FinalNormScale => Weights.LnFGamma;

    internal override (float[] Hat, float[] Rstd, float[] Gamma) MlpNorm(BlockRun<Gpt2Activations> run, int l) => (run.Layer(l).Ln2Hat, run.Layer(l).Ln2Rstd, Weights.Layers[l].Ln2Gamma);

    /// <summary>Through c_proj, GELU, c_fc and LN₂.</summary>
    internal override void MlpBackward(BlockRun<Gpt2Activations> run, int l, float[] g, float[] dx, RowSet rows, BackwardFunctions f)
    {
        if (f.CutMlp) return;
        var (w, s, work) = (Weights.Layers[l], run.Layer(l), Work(run));
        int k = rows.Count, d = Config.DModel, m = Config.DMlp;
        w.Proj.Transpose(rows.Gather(g, d, work.DNormed), d, k, work.DHidden, accumulate: false);
        RowSteps.ActivationBackward(rows, m, s.Pre, s.Post, work.DHidden, work.DHidden, f.Activation);
        w.Fc.Transpose(work.DHidden, m, k, work.DNormed, accumulate: false);
        RowSteps.NormBackward(rows, f.Norm, work.DNormed, s.Ln2Hat, s.Ln2Rstd, w.Ln2Gamma, dx);
    }

    /// <summary>Through c_proj, attention, c_attn and LN₁.</summary>
    internal override float[] AttentionBackward(BlockRun<Gpt2Activations> run, int l, float[] g, float[] dx, RowSet rows, BackwardFunctions f)
    {
        var (w, s, work) = (Weights.Layers[l], run.Layer(l), Work(run));
        int n = run.Rows, d = Config.DModel;
        w.O.Transpose(rows.Gather(g, d, work.DNormed), rows, work.DZ, Pool);
        AttentionHeads.Backward(rows, s.Qkv, s.Pattern, work.DZ, work.DQkv, run.Batch, run.Tokens, Config.NHeads, Config.DHead, f.Attention);
        w.Qkv.Transpose(work.DQkv, 3 * d, n, work.DNormed, accumulate: false);
        RowSteps.NormBackward(RowSet.All(n), f.Norm, work.DNormed, s.Ln1Hat, s.Ln1Rstd, w.Ln1Gamma, dx);
        return work.DZ;
    }

    private DenseBlockGradients Work(BlockRun<Gpt2Activations> run) => run.BackwardWork(pool => new DenseBlockGradients(Facts, run.Rows, pool));
}
