using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// What one GPT-NeoX block's forward pass leaves for its backward pass: beside the rotated Q | K | V rows and the
/// pattern (<see cref="BlockActivations"/>), both LayerNorms' x̂ and 1/σ and the MLP's pre- and post-activations; and attention's output, which a
/// parallel block adds to the residual only after its MLP.
/// </summary>
public sealed class GptNeoXActivations : BlockActivations
{
    internal readonly float[] Ln1Hat, Ln1Rstd, Ln2Hat, Ln2Rstd, Pre, Post, AttnOut;

    internal GptNeoXActivations(GptNeoXConfig c, ModelFacts facts, int batch, int tokens, int prefixRows, FloatPool pool) : base(facts, batch, tokens, prefixRows, pool)
    {
        long n = (long)batch * tokens, d = c.DModel, m = c.DMlp;
        Ln1Hat = Rent(n * d); Ln1Rstd = Rent(n); Ln2Hat = Rent(n * d); Ln2Rstd = Rent(n);
        Pre = Rent(n * m); Post = Rent(n * m); AttnOut = Rent(n * d);
    }
}
