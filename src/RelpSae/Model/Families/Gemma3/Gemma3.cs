namespace RelpSae.Model;

/// <summary>
/// Gemma 3's text model (Gemma3ForCausalLM, and the language model of Gemma3ForConditionalGeneration; Hugging Face
/// semantics): the Gemma-2 block with each head's query and key RMS-normed (QK-norm, scales 1 + w) before RoPE,
/// <code>
/// a = RMSNorm₁(x);  q, k, v = a·W_qᵀ, a·W_kᵀ, a·W_vᵀ;  q, k = RMSNorm_q(q), RMSNorm_k(k) per head;  q, k = RoPE_l(q, k)
/// </code>
/// and sliding layers that attend only to the last sliding_window keys, rotated with base rope_local_base_freq, between
/// global layers that see every key, rotated with base rope_theta and rope_scaling's linear factor. No soft-caps unless
/// the config sets them; the rest as <see cref="Gemma2"/>.
/// </summary>
public sealed partial class Gemma3 : Gemma2
{
    /// <summary>Each block's QK-norm (forward and backward).</summary>
    internal QkNorm[] QkNorms { get; }

    public Gemma3(Gemma3Weights weights) : base(weights.Gemma2, Ropes(weights.Config), l => weights.Config.Sliding[l] ? weights.Config.SlidingWindow : 0)
    {
        var c = weights.Config.Gemma2;
        QkNorms = [.. weights.QkNorms.Select(w => new QkNorm(w.Q, w.K, c.NHeads, c.NKvHeads, c.RmsNormEps))];
    }

    /// <summary>Each layer's rotary embedding: the local one on sliding layers, the (scaled) global one on the others.</summary>
    private static Rope[] Ropes(Gemma3Config c)
    {
        float factor = c.GlobalRopeFactor;
        var local = new Rope(c.Gemma2.DHead, c.LocalRopeTheta);
        var global = new Rope(c.Gemma2.DHead, c.Gemma2.RopeTheta, factor == 1 ? null : f => f / factor);
        return [.. c.Sliding.Select(sliding => sliding ? local : global)];
    }

    internal override Gemma2Activations NewLayer(int batch, int tokens, int prefixRows) => new Gemma3Activations(Config, Facts, batch, tokens, prefixRows, Pool);

    private protected override void QueriesKeysValues(BlockRun<Gemma2Activations> run, int l, Gemma2Activations s) =>
        QkNorms[l].Forward(Projections[l], run.Normed, run.Rows, run.Computed, run.First, s.Qkv, s.K, s.V, ((Gemma3Activations)s).QkNorm);
}
