using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// What one GPT-2 block's forward pass leaves for its backward pass (llm.c style: plain arrays, rows = batch·tokens):
/// the LayerNorms' x̂ and 1/σ, the fused qkv, the attention pattern (each row over the reused prefix's keys too,
/// when a pass starts after one), the MLP's pre- and post-activations.
/// </summary>
public sealed class Gpt2Activations : PooledBuffers
{
    internal readonly float[] Ln1Hat, Ln1Rstd, Qkv, Pattern, Ln2Hat, Ln2Rstd, Pre, Post;

    internal Gpt2Activations(Gpt2Config c, int batch, int tokens, int prefixRows, FloatPool pool) : base(pool)
    {
        long n = (long)batch * tokens, d = c.DModel, m = c.DMlp;
        Ln1Hat = Rent(n * d); Ln1Rstd = Rent(n); Ln2Hat = Rent(n * d); Ln2Rstd = Rent(n);
        Qkv = Rent(n * 3 * d); Pattern = Rent((long)batch * c.NHeads * tokens * (prefixRows + tokens));
        Pre = Rent(n * m); Post = Rent(n * m);
    }
}
