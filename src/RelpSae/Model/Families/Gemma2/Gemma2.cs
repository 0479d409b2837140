namespace RelpSae.Model;

/// <summary>
/// Gemma-2 (Gemma2ForCausalLM; Hugging Face semantics), forward pass block by block. Norms are RMSNorm
/// scaled by (1 + w), around both branches as well as before them:
/// <code>
/// x = embed·√d;  a = RMSNorm₁(x);  q, k, v = a·W_qᵀ, a·W_kᵀ, a·W_vᵀ;  q, k = RoPE(q, k)
/// s = c_a·tanh(q·kᵀ/√query_pre_attn_scalar / c_a);  z = softmax(s + mask)·v  (grouped-query K, V)
/// x += RMSNorm_post-attn(z·W_oᵀ);  a = RMSNorm_pre-ff(x);  x += RMSNorm_post-ff((gelu_tanh(a·W_gateᵀ) ⊙ a·W_upᵀ)·W_downᵀ)
/// </code>
/// logits = c_f·tanh(RMSNorm_f(x)·Eᵀ / c_f), E the embedding. hook_attn_out and hook_mlp_out are what the
/// branches add to the residual stream, after their post-norms (TransformerLens' convention). Gemma 3 is this block
/// with a QK-norm and sliding-window layers (<see cref="Gemma3"/> replaces <see cref="QueriesKeysValues"/> and its backward).
/// </summary>
public partial class Gemma2 : StackedTransformer<Gemma2Activations>, IMlpPostNorm
{
    public (float[] Gamma, float Eps) MlpPostNorm(int layer) => (Weights.Layers[layer].PostFeedforwardNorm, Config.RmsNormEps);

    /// <summary>Each block's rotary, grouped-query projections and gated MLP (forward and backward).</summary>
    internal RotaryQkv[] Projections { get; }
    internal GatedMlp[] Mlps { get; }

    /// <summary>Gemma-2: one rotary base, and every even layer attending within sliding_window keys (Hugging Face's is_sliding = not layer_idx % 2).</summary>
    public Gemma2(Gemma2Weights weights) : this(weights, [.. Enumerable.Repeat(new Rope(weights.Config.DHead, weights.Config.RopeTheta), weights.Config.NLayers)],
        window: l => l % 2 == 0 ? weights.Config.SlidingWindow : 0) { }

    /// <summary>The block with each layer's rotary embedding and attention window (0: every earlier key).</summary>
    private protected Gemma2(Gemma2Weights weights, Rope[] ropes, Func<int, int> window) : base(weights.Config.Facts)
    {
        Weights = weights;
        var c = weights.Config;
        Projections = [.. weights.Layers.Select((w, l) => w.Maps.Rotary(ropes[l], c.NHeads, c.NKvHeads, c.DHead))];
        Mlps = [.. weights.Layers.Select(w => w.Maps.Mlp(Gelu.Forward))];
        EmbeddingScale = MathF.Sqrt(c.DModel);
        Scores = [.. Enumerable.Range(0, c.NLayers).Select(l => new AttentionScores(1f / MathF.Sqrt(c.QueryPreAttnScalar), new Softcap(c.AttentionSoftcap), window(l)))];
        LogitSoftcap = new Softcap(c.LogitSoftcap);
    }

    public Gemma2Weights Weights { get; }
    public Gemma2Config Config => Weights.Config;
    internal override void EmbeddingRow(int id, Span<float> into) => Weights.Embedding.Row(id, into);
    internal override Linear Unembed => Weights.LmHead;

    internal override Gemma2Activations NewLayer(int batch, int tokens, int prefixRows) => new(Config, Facts, batch, tokens, prefixRows, Pool);

    internal override bool Attention(BlockRun<Gemma2Activations> run, int l)
    {
        var (w, s, n) = (Weights.Layers[l], run.Layer(l), run.Rows);
        RowSteps.RmsNorm(RowSet.All(n), run.Residual, s.Ln1Hat, s.Ln1Rstd, run.Normed, w.InputNorm, Config.RmsNormEps);
        QueriesKeysValues(run, l, s);
        if (!run.Attend(l)) return false;
        var rows = run.RowsPastAttention(l);
        w.Maps.O.Apply(run.Z, rows, s.Raw, Pool);
        RowSteps.RmsNorm(rows, s.Raw, s.Post1Hat, s.Post1Rstd, run.Out, w.PostAttentionNorm, Config.RmsNormEps);
        return run.AddBranch(l, rows, run.Out, HookKind.AttnOut, HookKind.ResidMid);
    }

    /// <summary>The fused, rotated Q | K | V rows (and K, V unrepeated) from the normed rows.</summary>
    private protected virtual void QueriesKeysValues(BlockRun<Gemma2Activations> run, int l, Gemma2Activations s) =>
        Projections[l].Forward(run.Normed, run.Rows, run.Computed, run.First, s.Qkv, s.K, s.V);

    internal override bool Mlp(BlockRun<Gemma2Activations> run, int l, RowSet rows)
    {
        var (w, s) = (Weights.Layers[l], run.Layer(l));
        if (run.MlpResidualIn(l, rows) is not { } input) return false;
        RowSteps.RmsNorm(rows, input, s.Ln2Hat, s.Ln2Rstd, run.Normed, w.PreFeedforwardNorm, Config.RmsNormEps);
        if (!run.MlpNormHooks(l, rows, s.Ln2Hat, w.PreFeedforwardNorm, beta: null)) return false;
        Mlps[l].Hidden(run.Normed, rows, s.Mlp, Pool);
        if (!run.Hook(HookKind.MlpPost, l, s.Mlp.Hidden)) return false;
        Mlps[l].Output(rows, s.Mlp, s.Raw, Pool);
        // mlp.hook_out is the MLP's own output, before the post-feedforward norm; hook_mlp_out is after it.
        if (!run.Hook(HookKind.MlpHookOut, l, s.Raw)) return false;
        RowSteps.RmsNorm(rows, s.Raw, s.Post2Hat, s.Post2Rstd, run.Out, w.PostFeedforwardNorm, Config.RmsNormEps);
        return run.AddBranch(l, rows, run.Out, HookKind.MlpOut, HookKind.ResidPost);
    }

    internal override void FinalNorm(BlockRun<Gemma2Activations> run, RowSet rows) =>
        RowSteps.RmsNorm(rows, run.Residual, run.FinalHat, run.FinalRstd, run.Final, Weights.FinalNorm, Config.RmsNormEps);
}
