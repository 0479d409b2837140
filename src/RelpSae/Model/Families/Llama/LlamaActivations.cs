using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// What one Llama block's forward pass leaves for its backward pass (llm.c style: plain arrays, rows =
/// batch·tokens): beside the fused, rotated Q | K | V rows and the pattern (<see cref="BlockActivations"/>), both
/// RMSNorms' x̂ and 1/rms, K and V before their repeat, and the gated MLP's gate, act(gate), up and their product.
/// </summary>
public class LlamaActivations : BlockActivations
{
    internal readonly float[] Ln1Hat, Ln1Rstd, K, V, Ln2Hat, Ln2Rstd;
    internal readonly GatedMlp.Activations Mlp;

    internal LlamaActivations(LlamaConfig c, ModelFacts facts, int batch, int tokens, int prefixRows, FloatPool pool) : base(facts, batch, tokens, prefixRows, pool)
    {
        long n = (long)batch * tokens, d = c.DModel, m = c.DMlp;
        Ln1Hat = Rent(n * d); Ln1Rstd = Rent(n); Ln2Hat = Rent(n * d); Ln2Rstd = Rent(n);
        K = Rent(n * c.DKv); V = Rent(n * c.DKv);
        Mlp = new(Rent(n * m), Rent(n * m), Rent(n * m), Rent(n * m));
    }
}
