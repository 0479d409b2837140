using RelpSae.Lrp;

namespace RelpSae.Model;

/// <summary>
/// The Gemma 3 block's backward pass: the Gemma-2 block's, with the QK-norm between RoPE and the projections, which
/// takes the block's norm function (under the LN-rule each head's 1/rms frozen as every other RMSNorm's). A sliding
/// layer's window needs nothing here: the keys outside it have pattern 0 (<see cref="Attention.Backward"/>).
/// </summary>
public sealed partial class Gemma3
{
    /// <summary>Through grouped-query sharing, RoPE, the QK-norm and the projections.</summary>
    private protected override void QueriesKeysValuesBackward(BlockRun<Gemma2Activations> run, int l, BackwardFunctions f, BackwardWork work) =>
        QkNorms[l].Backward(Projections[l], work.DQkv, work.DK, work.DV, run.Rows, run.Tokens, f.Norm, ((Gemma3Activations)run.Layer(l)).QkNorm, work.DNormed);
}
