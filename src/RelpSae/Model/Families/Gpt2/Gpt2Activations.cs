using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// What one GPT-2 block's forward pass leaves for its backward pass (llm.c style: plain arrays, rows = batch·tokens):
/// beside the fused qkv and the pattern (<see cref="BlockActivations"/>), the LayerNorms' x̂ and 1/σ and the MLP's
/// pre- and post-activations.
/// </summary>
public sealed class Gpt2Activations : BlockActivations
{
    internal readonly float[] Ln1Hat, Ln1Rstd, Ln2Hat, Ln2Rstd, Pre, Post;

    internal Gpt2Activations(Gpt2Config c, ModelFacts facts, int batch, int tokens, int prefixRows, FloatPool pool) : base(facts, batch, tokens, prefixRows, pool)
    {
        long n = (long)batch * tokens, d = c.DModel, m = c.DMlp;
        Ln1Hat = Rent(n * d); Ln1Rstd = Rent(n); Ln2Hat = Rent(n * d); Ln2Rstd = Rent(n);
        Pre = Rent(n * m); Post = Rent(n * m);
    }
}
