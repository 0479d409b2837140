using RelpSae.Formats;
using RelpSae.Lrp;

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
/// branches add to the residual stream, after their post-norms (TransformerLens' convention).
/// </summary>
public sealed class Gemma2 : StackedTransformer<Gemma2Activations>
{
    /// <summary>Each block's rotary, grouped-query projections (forward and backward).</summary>
    internal RotaryQkv[] Projections { get; }

    public Gemma2(Gemma2Weights weights)
    {
        Weights = weights;
        var c = weights.Config;
        var rope = new Rope(c.DHead, c.RopeTheta);
        Projections = [.. weights.Layers.Select(w => new RotaryQkv(w.Q, w.K, w.V, rope, c.NHeads, c.NKvHeads, c.DHead))];
        Facts = weights.Config.Facts;
        EmbeddingScale = MathF.Sqrt(weights.Config.DModel);
        Scores = new AttentionScores(1f / MathF.Sqrt(weights.Config.QueryPreAttnScalar), new Softcap(weights.Config.AttentionSoftcap));
        LogitSoftcap = new Softcap(weights.Config.LogitSoftcap);
    }

    public Gemma2Weights Weights { get; }
    public Gemma2Config Config => Weights.Config;
    public override ModelFacts Facts { get; }
    internal override float[] Embedding => Weights.Embedding;
    internal override Linear Unembed => Weights.LmHead;
    internal override float EmbeddingScale { get; }
    internal override AttentionScores Scores { get; }
    internal override Softcap LogitSoftcap { get; }

    /// <summary>Loads a Hugging Face folder: config.json and model.safetensors (or shards, or pytorch_model.bin).</summary>
    public static Gemma2 Load(string dir, ConfigJson config)
    {
        var parsed = Gemma2Config.Parse(config);
        using var tensors = ShardedCheckpoint.Read(dir);
        return new(Gemma2Weights.FromTensors(parsed, tensors, config.Path));
    }

    internal override Gemma2Activations NewLayer(int batch, int tokens, int prefixRows) => new(Config, Facts, batch, tokens, prefixRows, Pool);

    internal override bool Block(BlockRun<Gemma2Activations> run, int l, bool mlpOnly)
    {
        var c = Config;
        var w = Weights.Layers[l];
        var s = run.Layer(l);
        var x = run.Residual;
        var rows = run.RowsPastAttention(l);
        int n = run.Rows, T = run.Computed, p = run.First, d = c.DModel, m = c.DMlp;
        if (!mlpOnly)
        {
            if (!run.Hook(HookKind.ResidPre, l, x)) return false;
            RowSteps.RmsNorm(RowSet.All(n), x, s.Ln1Hat, s.Ln1Rstd, run.Normed, w.InputNorm, c.RmsNormEps);
            Projections[l].Forward(run.Normed, n, T, p, s.Qkv, s.K, s.V);
            if (!run.Attend(l)) return false;
            w.O.Apply(run.Z, rows, s.Raw, Pool);
            RowSteps.RmsNorm(rows, s.Raw, s.Post1Hat, s.Post1Rstd, run.Out, w.PostAttentionNorm, c.RmsNormEps);
            if (!run.AddBranch(l, rows, run.Out, HookKind.AttnOut, HookKind.ResidMid)) return false;
        }
        RowSteps.RmsNorm(rows, x, s.Ln2Hat, s.Ln2Rstd, run.Normed, w.PreFeedforwardNorm, c.RmsNormEps);
        w.Gate.Apply(run.Normed, rows, s.Gate, Pool);
        w.Up.Apply(run.Normed, rows, s.Up, Pool);
        RowSteps.Map(rows, m, s.Gate, s.Act, Gelu.Forward);
        RowSteps.Map(rows, m, s.Act, s.Up, s.Hidden, GatedProduct.Forward);
        if (!run.Hook(HookKind.MlpPost, l, s.Hidden)) return false;
        w.Down.Apply(s.Hidden, rows, s.Raw, Pool);
        RowSteps.RmsNorm(rows, s.Raw, s.Post2Hat, s.Post2Rstd, run.Out, w.PostFeedforwardNorm, c.RmsNormEps);
        return run.AddBranch(l, rows, run.Out, HookKind.MlpOut, HookKind.ResidPost);
    }

    internal override void FinalNorm(BlockRun<Gemma2Activations> run, RowSet rows) =>
        RowSteps.RmsNorm(rows, run.Residual, run.FinalHat, run.FinalRstd, run.Final, Weights.FinalNorm, Config.RmsNormEps);

    internal override float[] Backward(BlockRun<Gemma2Activations> run, IReadOnlyList<Metric> metrics, HookPoint hook, PropagationRules rules,
        ComponentGradients? record = null) =>
        Gemma2Backward.Run(this, run, metrics, hook, rules, record);
}
