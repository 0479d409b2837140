using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// What one GPT-NeoX block's forward pass leaves for its backward pass: both LayerNorms' x̂ and 1/σ, the
/// rotated Q | K | V rows, the pattern and the MLP's pre- and post-activations; and attention's output, which a
/// parallel block adds to the residual only after its MLP.
/// </summary>
public sealed class GptNeoXActivations : PooledBuffers
{
    internal readonly float[] Ln1Hat, Ln1Rstd, Qkv, Pattern, Ln2Hat, Ln2Rstd, Pre, Post, AttnOut;

    internal GptNeoXActivations(GptNeoXConfig c, int batch, int tokens, int prefixRows, FloatPool pool) : base(pool)
    {
        long n = (long)batch * tokens, d = c.DModel, m = c.DMlp;
        Ln1Hat = Rent(n * d); Ln1Rstd = Rent(n); Ln2Hat = Rent(n * d); Ln2Rstd = Rent(n);
        Qkv = Rent(n * 3 * d); Pattern = Rent((long)batch * c.NHeads * tokens * (prefixRows + tokens));
        Pre = Rent(n * m); Post = Rent(n * m); AttnOut = Rent(n * d);
    }
}
