namespace RelpSae.Model;

/// <summary>
/// One transformer block's parameters in Hugging Face Conv1D layout (y = x·W + b, W stored [in, out]).
/// </summary>
public sealed class LayerWeights
{
    public required float[] Ln1Gamma, Ln1Beta;   // [d]
    public required float[] WQkv, BQkv;          // [d, 3d], [3d]: columns Q | K | V, heads contiguous d_head slices
    public required float[] WO, BO;              // [d, d], [d]
    public required float[] Ln2Gamma, Ln2Beta;   // [d]
    public required float[] WFc, BFc;            // [d, m], [m]
    public required float[] WProj, BProj;        // [m, d], [d]
}
