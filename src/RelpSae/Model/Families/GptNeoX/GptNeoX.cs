namespace RelpSae.Model;

/// <summary>
/// GPT-NeoX (GPTNeoXForCausalLM: Pythia; Hugging Face semantics), forward pass block by block:
/// <code>
/// q, k, v = LN₁(x)·W_qkvᵀ + b;  q, k = RoPE on the first rotary_pct of each head's dims
/// attn = softmax(q·kᵀ/√d_head + mask)·v·W_denseᵀ + b;  mlp(h) = gelu(h·W_inᵀ + b)·W_outᵀ + b
/// parallel:   x ← x + attn(LN₁(x)) + mlp(LN₂(x))
/// sequential: x ← x + attn(LN₁(x));  x ← x + mlp(LN₂(x))
/// </code>
/// logits = LN_f(x)·W_embed_outᵀ.
/// </summary>
public sealed partial class GptNeoX : StackedTransformer<GptNeoXActivations>
{
    private readonly Rope rope;

    public GptNeoX(GptNeoXWeights weights) : base(weights.Config.Facts)
    {
        Weights = weights;
        rope = new Rope(weights.Config.RotaryDims, weights.Config.RopeTheta);
    }

    public GptNeoXWeights Weights { get; }
    public GptNeoXConfig Config => Weights.Config;
    internal override void EmbeddingRow(int id, Span<float> into) => Weights.Embedding.Row(id, into);
    internal override Linear Unembed => Weights.Unembed;

    internal override GptNeoXActivations NewLayer(int batch, int tokens, int prefixRows) => new(Config, Facts, batch, tokens, prefixRows, Pool);

    internal void Activation(ReadOnlySpan<float> u, Span<float> post)
    {
        if (Config.ExactGelu) GeluErf.Forward(u, post); else Gelu.Forward(u, post);
    }

    internal override bool Attention(BlockRun<GptNeoXActivations> run, int l)
    {
        var (c, w, s, n) = (Config, Weights.Layers[l], run.Layer(l), run.Rows);
        RowSteps.LayerNorm(RowSet.All(n), run.Residual, s.Ln1Hat, s.Ln1Rstd, run.Normed, w.Ln1Gamma, w.Ln1Beta, c.LayerNormEps);
        w.Qkv.Apply(run.Normed, n, s.Qkv, 3 * c.DModel);
        rope.Apply(s.Qkv, 3 * c.DModel, n, run.Computed, c.NHeads, c.DHead, firstPosition: run.First);
        rope.Apply(s.Qkv.AsSpan(c.DModel), 3 * c.DModel, n, run.Computed, c.NHeads, c.DHead, firstPosition: run.First);
        if (!run.Attend(l)) return false;
        var rows = run.RowsPastAttention(l);
        w.Dense.Apply(run.Z, rows, s.AttnOut, Pool);
        // Parallel: attention's output joins the residual with the MLP's, after it.
        return c.ParallelResidual ? run.Hook(HookKind.AttnOut, l, s.AttnOut) : run.AddBranch(l, rows, s.AttnOut, HookKind.AttnOut, HookKind.ResidMid);
    }

    /// <summary>In parallel the MLP reads the block's input, before attention's output is added.</summary>
    internal override bool Mlp(BlockRun<GptNeoXActivations> run, int l, RowSet rows)
    {
        var (c, w, s) = (Config, Weights.Layers[l], run.Layer(l));
        if (run.MlpResidualIn(l, rows) is not { } input) return false;
        RowSteps.LayerNorm(rows, input, s.Ln2Hat, s.Ln2Rstd, run.Normed, w.Ln2Gamma, w.Ln2Beta, c.LayerNormEps);
        if (!run.MlpNormHooks(l, rows, s.Ln2Hat, w.Ln2Gamma, w.Ln2Beta)) return false;
        w.FcIn.Apply(run.Normed, rows, s.Pre, Pool);
        RowSteps.Map(rows, c.DMlp, s.Pre, s.Post, Activation);
        if (!run.Hook(HookKind.MlpPost, l, s.Post)) return false;
        w.FcOut.Apply(s.Post, rows, run.Out, Pool);
        if (!run.Hook(HookKind.MlpHookOut, l, run.Out)) return false;
        if (c.ParallelResidual) RowSteps.Add(rows, c.DModel, run.Residual, s.AttnOut);
        return run.AddBranch(l, rows, run.Out, HookKind.MlpOut, HookKind.ResidPost);
    }

    internal override void FinalNorm(BlockRun<GptNeoXActivations> run, RowSet rows) =>
        RowSteps.LayerNorm(rows, run.Residual, run.FinalHat, run.FinalRstd, run.Final, Weights.LnFGamma, Weights.LnFBeta, Config.LayerNormEps);
}
