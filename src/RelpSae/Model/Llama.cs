using System.Numerics.Tensors;
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

    internal override LlamaActivations NewLayer(int batch, int tokens, int prefixRows) => new(Config, batch, tokens, prefixRows);

    internal override bool Block(BlockRun<LlamaActivations> run, int l, bool mlpOnly)
    {
        var c = Config;
        var w = Weights.Layers[l];
        var s = run.Layer(l);
        var x = run.Residual;
        int n = run.Rows, T = run.Computed, p = run.First;
        if (!mlpOnly)
        {
            if (!run.Hook(new HookPoint(HookKind.ResidPre, l), x)) return false;
            RmsNorm.Forward(x, s.Ln1Hat, s.Ln1Rstd, s.Normed, w.InputNorm, n, c.RmsNormEps);
            Projections[l].Forward(s.Normed, n, T, p, s.Qkv, s.K, s.V);
            run.Attention(run.Clean?.Layer(l).Qkv, s.Qkv, s.Pattern, s.Z);
            if (!run.Hook(new HookPoint(HookKind.AttnPattern, l), s.Pattern)) return false;
            if (!run.Hook(new HookPoint(HookKind.AttnZ, l), s.Z)) return false;
            w.O.Apply(s.Z, n, s.Out, c.DModel);
            if (!run.Hook(new HookPoint(HookKind.AttnOut, l), s.Out)) return false;
            TensorPrimitives.Add(x, s.Out, x);
            if (!run.Hook(new HookPoint(HookKind.ResidMid, l), x)) return false;
        }
        RmsNorm.Forward(x, s.Ln2Hat, s.Ln2Rstd, s.Normed, w.PostAttentionNorm, n, c.RmsNormEps);
        w.Gate.Apply(s.Normed, n, s.Gate, c.DMlp);
        w.Up.Apply(s.Normed, n, s.Up, c.DMlp);
        Silu.Forward(s.Gate, s.Act);
        GatedProduct.Forward(s.Act, s.Up, s.Hidden);
        if (!run.Hook(new HookPoint(HookKind.MlpPost, l), s.Hidden)) return false;
        w.Down.Apply(s.Hidden, n, s.Out, c.DModel);
        if (!run.Hook(new HookPoint(HookKind.MlpOut, l), s.Out)) return false;
        TensorPrimitives.Add(x, s.Out, x);
        return run.Hook(new HookPoint(HookKind.ResidPost, l), x);
    }

    internal override void FinalNorm(BlockRun<LlamaActivations> run) =>
        RmsNorm.Forward(run.Residual, run.FinalHat, run.FinalRstd, run.Final, Weights.FinalNorm, run.Rows, Config.RmsNormEps);

    internal override float[] Backward(BlockRun<LlamaActivations> run, IReadOnlyList<Metric> metrics, HookPoint hook, PropagationRules rules, ComponentGradients? record = null) =>
        LlamaBackward.Run(this, run, metrics, hook, rules, record);
}
