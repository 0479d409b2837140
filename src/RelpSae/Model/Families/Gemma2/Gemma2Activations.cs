using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// What one Gemma-2 block's forward pass leaves for its backward pass (rows = batch·tokens): beside the fused,
/// rotated Q | K | V rows and the pattern (<see cref="BlockActivations"/>), the four RMSNorms' x̂ and 1/rms, K and V
/// before their repeat, and the gated MLP's gate, act(gate), up and their product; Raw (a branch's output before its
/// post-norm) is scratch.
/// </summary>
public class Gemma2Activations : BlockActivations
{
    internal readonly float[] Ln1Hat, Ln1Rstd, Post1Hat, Post1Rstd, Ln2Hat, Ln2Rstd, Post2Hat, Post2Rstd;
    internal readonly float[] K, V, Raw;
    internal readonly GatedMlp.Activations Mlp;

    internal Gemma2Activations(Gemma2Config c, ModelFacts facts, int batch, int tokens, int prefixRows, FloatPool pool) : base(facts, batch, tokens, prefixRows, pool)
    {
        long n = (long)batch * tokens, d = c.DModel, m = c.DMlp;
        Ln1Hat = Rent(n * d); Post1Hat = Rent(n * d); Ln2Hat = Rent(n * d); Post2Hat = Rent(n * d);
        Ln1Rstd = Rent(n); Post1Rstd = Rent(n); Ln2Rstd = Rent(n); Post2Rstd = Rent(n);
        K = Rent(n * c.DKv); V = Rent(n * c.DKv);
        Mlp = new(Rent(n * m), Rent(n * m), Rent(n * m), Rent(n * m)); Raw = Rent(n * d);
    }
}
