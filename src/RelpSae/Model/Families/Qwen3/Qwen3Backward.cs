using RelpSae.Lrp;

namespace RelpSae.Model;

/// <summary>
/// The Qwen3 block's backward pass: the Llama block's, with the QK-norm between RoPE and the projections. The
/// QK-norm takes the block's norm function (<see cref="BackwardFunctions.Norm"/>), so under the LN-rule each head's
/// 1/rms is frozen as every other RMSNorm's is.
/// </summary>
public sealed partial class Qwen3
{
    /// <summary>Through grouped-query sharing, RoPE, the QK-norm and the projections.</summary>
    private protected override void QueriesKeysValuesBackward(BlockRun<LlamaActivations> run, int l, BackwardFunctions f, BackwardWork work) =>
        QkNorms[l].Backward(Projections[l], work.DQkv, work.DK, work.DV, run.Rows, run.Tokens, f.Norm, ((Qwen3Activations)run.Layer(l)).QkNorm, work.DNormed);
}
