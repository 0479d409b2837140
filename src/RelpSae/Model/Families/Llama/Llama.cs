namespace RelpSae.Model;

/// <summary>
/// The Llama family (LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM; Hugging Face semantics),
/// forward pass block by block:
/// <code>
/// a = RMSNorm₁(x);  q, k, v = a·W_qᵀ (+b_q), a·W_kᵀ (+b_k), a·W_vᵀ (+b_v);  q, k = RoPE(q, k)
/// z = softmax(q·kᵀ/√d_head + mask)·v  (each K, V head shared by n_heads/n_kv_heads query heads)
/// x += z·W_oᵀ;  a = RMSNorm₂(x);  x += (silu(a·W_gateᵀ) ⊙ a·W_upᵀ)·W_downᵀ
/// </code>
/// logits = RMSNorm_f(x)·W_lm_headᵀ (lm_head tied to the embedding or not). Qwen3 is this block with its q and k
/// normed before RoPE (<see cref="Qwen3"/> replaces <see cref="QueriesKeysValues"/> and its backward).
/// </summary>
public partial class Llama : StackedTransformer<LlamaActivations>
{
    /// <summary>Each block's rotary, grouped-query projections and gated MLP (forward and backward).</summary>
    internal RotaryQkv[] Projections { get; }
    internal GatedMlp[] Mlps { get; }

    public Llama(LlamaWeights weights) : base(weights.Config.Facts)
    {
        Weights = weights;
        var c = weights.Config;
        var rope = new Rope(c.DHead, c.RopeTheta, c.RopeScaling is null ? null : c.RopeScaling.Scale);
        Projections = [.. weights.Layers.Select(w => w.Maps.Rotary(rope, c.NHeads, c.NKvHeads, c.DHead))];
        Mlps = [.. weights.Layers.Select(w => w.Maps.Mlp(Silu.Forward))];
    }

    public LlamaWeights Weights { get; }
    public LlamaConfig Config => Weights.Config;
    internal override void EmbeddingRow(int id, Span<float> into) => Weights.Embedding.Row(id, into);
    internal override Linear Unembed => Weights.LmHead;

    internal override LlamaActivations NewLayer(int batch, int tokens, int prefixRows) => new(Config, Facts, batch, tokens, prefixRows, Pool);

    internal override bool Attention(BlockRun<LlamaActivations> run, int l)
    {
        var (w, s, n) = (Weights.Layers[l], run.Layer(l), run.Rows);
        RowSteps.RmsNorm(RowSet.All(n), run.Residual, s.Ln1Hat, s.Ln1Rstd, run.Normed, w.InputNorm, Config.RmsNormEps);
        QueriesKeysValues(run, l, s);
        if (!run.Attend(l)) return false;
        var rows = run.RowsPastAttention(l);
        w.Maps.O.Apply(run.Z, rows, run.Out, Pool);
        return run.AddBranch(l, rows, run.Out, HookKind.AttnOut, HookKind.ResidMid);
    }

    /// <summary>The fused, rotated Q | K | V rows (and K, V unrepeated) from the normed rows.</summary>
    private protected virtual void QueriesKeysValues(BlockRun<LlamaActivations> run, int l, LlamaActivations s) =>
        Projections[l].Forward(run.Normed, run.Rows, run.Computed, run.First, s.Qkv, s.K, s.V);

    internal override bool Mlp(BlockRun<LlamaActivations> run, int l, RowSet rows)
    {
        var (w, s) = (Weights.Layers[l], run.Layer(l));
        if (run.MlpResidualIn(l, rows) is not { } input) return false;
        RowSteps.RmsNorm(rows, input, s.Ln2Hat, s.Ln2Rstd, run.Normed, w.PostAttentionNorm, Config.RmsNormEps);
        if (!run.MlpNormHooks(l, rows, s.Ln2Hat, w.PostAttentionNorm, beta: null)) return false;
        Mlps[l].Hidden(run.Normed, rows, s.Mlp, Pool);
        if (!run.Hook(HookKind.MlpPost, l, s.Mlp.Hidden)) return false;
        Mlps[l].Output(rows, s.Mlp, run.Out, Pool);
        return run.Hook(HookKind.MlpHookOut, l, run.Out) && run.AddBranch(l, rows, run.Out, HookKind.MlpOut, HookKind.ResidPost);
    }

    internal override void FinalNorm(BlockRun<LlamaActivations> run, RowSet rows) =>
        RowSteps.RmsNorm(rows, run.Residual, run.FinalHat, run.FinalRstd, run.Final, Weights.FinalNorm, Config.RmsNormEps);
}
