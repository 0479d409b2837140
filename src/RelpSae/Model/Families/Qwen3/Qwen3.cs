namespace RelpSae.Model;

/// <summary>
/// Qwen3 (Qwen3ForCausalLM; Hugging Face semantics): the Llama block with each head's query and key RMS-normed
/// (QK-norm, one scale [d_head] for the queries and one for the keys) before RoPE:
/// <code>
/// a = RMSNorm₁(x);  q, k, v = a·W_qᵀ, a·W_kᵀ, a·W_vᵀ;  q, k = RMSNorm_q(q), RMSNorm_k(k) per head;  q, k = RoPE(q, k)
/// </code>
/// and the rest as <see cref="Llama"/>: grouped-query attention, W_o, the SwiGLU MLP, the final RMSNorm and head.
/// </summary>
public sealed partial class Qwen3 : Llama
{
    /// <summary>Each block's QK-norm (forward and backward).</summary>
    internal QkNorm[] QkNorms { get; }

    public Qwen3(Qwen3Weights weights) : base(weights.Llama)
    {
        var c = weights.Llama.Config;
        QkNorms = [.. weights.QkNorms.Select(w => new QkNorm(w.Q, w.K, c.NHeads, c.NKvHeads, c.RmsNormEps))];
    }

    internal override LlamaActivations NewLayer(int batch, int tokens, int prefixRows) => new Qwen3Activations(Config, Facts, batch, tokens, prefixRows, Pool);

    private protected override void QueriesKeysValues(BlockRun<LlamaActivations> run, int l, LlamaActivations s) =>
        QkNorms[l].Forward(Projections[l], run.Normed, run.Rows, run.Computed, run.First, s.Qkv, s.K, s.V, ((Qwen3Activations)s).QkNorm);
}
