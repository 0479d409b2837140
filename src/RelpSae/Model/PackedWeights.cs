using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// The model's weight matrices packed once for the GEMM (<see cref="PackedMatrix"/>), each set built on
/// first use: a block's x·W products for the first forward pass through it, its g·Wᵀ products for the
/// first backward pass through it, and x·W_Uᵀ for the first pass that wants logits at every position.
/// One more copy of the weights in use, instead of a repack of every matrix on every call.
/// </summary>
internal sealed class PackedWeights(Gpt2Weights weights)
{
    /// <summary>One block's four matrices, as the right-hand operand of its products.</summary>
    public sealed record Block(PackedMatrix Qkv, PackedMatrix O, PackedMatrix Fc, PackedMatrix Proj);

    private readonly Block?[] forward = new Block?[weights.Config.NLayers];
    private readonly Block?[] backward = new Block?[weights.Config.NLayers];
    private PackedMatrix? unembed;
    private readonly Lock gate = new();

    /// <summary>W of each matrix of block l (y = x·W).</summary>
    public Block Forward(int l) { lock (gate) return forward[l] ??= Pack(weights.Layers[l], transposed: false); }

    /// <summary>Wᵀ of each matrix of block l (dx = dy·Wᵀ).</summary>
    public Block Backward(int l) { lock (gate) return backward[l] ??= Pack(weights.Layers[l], transposed: true); }

    /// <summary>W_Uᵀ [d×V] (logits = x·W_Uᵀ).</summary>
    public PackedMatrix Unembed
    {
        get
        {
            int d = weights.Config.DModel;
            lock (gate) return unembed ??= new PackedMatrix(weights.Unembed, d, weights.Config.VocabSize, d, transposed: true);
        }
    }

    private Block Pack(LayerWeights w, bool transposed)
    {
        int d = weights.Config.DModel, m = weights.Config.DMlp;
        // W is stored [in × out]; its transpose is op(B) = Wᵀ [out × in] read from the same storage.
        PackedMatrix P(float[] x, int rows, int cols) =>
            transposed ? new PackedMatrix(x, cols, rows, cols, transposed: true) : new PackedMatrix(x, rows, cols, cols, transposed: false);
        return new Block(P(w.WQkv, d, 3 * d), P(w.WO, d, d), P(w.WFc, d, m), P(w.WProj, m, d));
    }
}
