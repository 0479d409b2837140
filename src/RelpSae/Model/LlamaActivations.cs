using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// What one Llama block's forward pass leaves for its backward pass (llm.c style: plain arrays, rows =
/// batch·tokens): both RMSNorms' x̂ and 1/rms, the fused and rotated Q | K | V rows (K, V repeated per
/// query head), the pattern, and the gated MLP's gate, act(gate), up and their product.
/// </summary>
public sealed class LlamaActivations : PooledBuffers
{
    internal readonly float[] Ln1Hat, Ln1Rstd, Qkv, K, V, Pattern, Ln2Hat, Ln2Rstd, Gate, Act, Up, Hidden;

    internal LlamaActivations(LlamaConfig c, int batch, int tokens, int prefixRows, FloatPool pool) : base(pool)
    {
        long n = (long)batch * tokens, d = c.DModel, m = c.DMlp;
        Ln1Hat = Rent(n * d); Ln1Rstd = Rent(n); Ln2Hat = Rent(n * d); Ln2Rstd = Rent(n);
        Qkv = Rent(n * 3 * c.DAttention); K = Rent(n * c.DKv); V = Rent(n * c.DKv);
        Pattern = Rent((long)batch * c.NHeads * tokens * (prefixRows + tokens));
        Gate = Rent(n * m); Act = Rent(n * m); Up = Rent(n * m); Hidden = Rent(n * m);
    }
}
