using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>What one Gemma 3 block's forward pass leaves for its backward pass: a Gemma-2 block's, and the QK-norm's x̂ and 1/rms per head.</summary>
public sealed class Gemma3Activations : Gemma2Activations
{
    internal readonly QkNorm.Activations QkNorm;

    internal Gemma3Activations(Gemma2Config c, ModelFacts facts, int batch, int tokens, int prefixRows, FloatPool pool) : base(c, facts, batch, tokens, prefixRows, pool) =>
        QkNorm = Model.QkNorm.Activations.Rent(Rent, (long)batch * tokens, c.NHeads, c.NKvHeads, c.DHead);
}
