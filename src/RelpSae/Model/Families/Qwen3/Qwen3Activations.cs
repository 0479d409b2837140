using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>What one Qwen3 block's forward pass leaves for its backward pass: a Llama block's, and the QK-norm's x̂ and 1/rms per head.</summary>
public sealed class Qwen3Activations : LlamaActivations
{
    internal readonly QkNorm.Activations QkNorm;

    internal Qwen3Activations(LlamaConfig c, ModelFacts facts, int batch, int tokens, int prefixRows, FloatPool pool) : base(c, facts, batch, tokens, prefixRows, pool) =>
        QkNorm = Model.QkNorm.Activations.Rent(Rent, (long)batch * tokens, c.NHeads, c.NKvHeads, c.DHead);
}
