using RelpSae.Formats;
using RelpSae.Lrp;

namespace RelpSae.Model;

/// <summary>
/// The Llama family (LlamaForCausalLM, Qwen2ForCausalLM, MistralForCausalLM; Hugging Face semantics),
/// forward pass block by block:
/// <code>
/// a = RMSNorm₁(x);  q, k, v = a·W_qᵀ (+b_q), a·W_kᵀ (+b_k), a·W_vᵀ (+b_v);  q, k = RoPE(q, k)
/// z = softmax(q·kᵀ/√d_head + mask)·v  (each K, V head shared by n_heads/n_kv_heads query heads)
/// x += z·W_oᵀ;  a = RMSNorm₂(x);  x += (silu(a·W_gateᵀ) ⊙ a·W_upᵀ)·W_downᵀ
/// </code>
/// logits = RMSNorm_f(x)·W_lm_headᵀ (lm_head tied to the embedding or not).
/// </summary>
public sealed class Llama : StackedTransformer<LlamaActivations>
{
    /// <summary>Each block's rotary, grouped-query projections (forward and backward).</summary>
    internal RotaryQkv[] Projections { get; }

    public Llama(LlamaWeights weights)
    {
        Weights = weights;
        var c = weights.Config;
        var rope = new Rope(c.DHead, c.RopeTheta);
        Projections = [.. weights.Layers.Select(w => new RotaryQkv(w.Q, w.K, w.V, rope, c.NHeads, c.NKvHeads, c.DHead))];
        Facts = weights.Config.Facts;
    }

    public LlamaWeights Weights { get; }
    public LlamaConfig Config => Weights.Config;
    public override ModelFacts Facts { get; }
    internal override float[] Embedding => Weights.Embedding;
    internal override Linear Unembed => Weights.LmHead;

    /// <summary>Loads a Hugging Face folder: config.json and model.safetensors (or shards, or pytorch_model.bin).</summary>
    public static Llama Load(string dir, ConfigJson config)
    {
        var parsed = LlamaConfig.Parse(config);
        using var tensors = ShardedCheckpoint.Read(dir);
        return new(LlamaWeights.FromTensors(parsed, tensors, config.Path));
    }

    internal override LlamaActivations NewLayer(int batch, int tokens, int prefixRows) => new(Config, Facts, batch, tokens, prefixRows, Pool);

    internal override bool Block(BlockRun<LlamaActivations> run, int l, bool mlpOnly)
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
            w.O.Apply(run.Z, rows, run.Out, Pool);
            if (!run.AddBranch(l, rows, run.Out, HookKind.AttnOut, HookKind.ResidMid)) return false;
        }
        RowSteps.RmsNorm(rows, x, s.Ln2Hat, s.Ln2Rstd, run.Normed, w.PostAttentionNorm, c.RmsNormEps);
        w.Gate.Apply(run.Normed, rows, s.Gate, Pool);
        w.Up.Apply(run.Normed, rows, s.Up, Pool);
        RowSteps.Map(rows, m, s.Gate, s.Act, Silu.Forward);
        RowSteps.Map(rows, m, s.Act, s.Up, s.Hidden, GatedProduct.Forward);
        if (!run.Hook(HookKind.MlpPost, l, s.Hidden)) return false;
        w.Down.Apply(s.Hidden, rows, run.Out, Pool);
        return run.AddBranch(l, rows, run.Out, HookKind.MlpOut, HookKind.ResidPost);
    }

    internal override void FinalNorm(BlockRun<LlamaActivations> run, RowSet rows) =>
        RowSteps.RmsNorm(rows, run.Residual, run.FinalHat, run.FinalRstd, run.Final, Weights.FinalNorm, Config.RmsNormEps);

    internal override float[] Backward(BlockRun<LlamaActivations> run, IReadOnlyList<Metric> metrics, HookPoint hook, PropagationRules rules, ComponentGradients? record = null) =>
        LlamaBackward.Run(this, run, metrics, hook, rules, record);
}
