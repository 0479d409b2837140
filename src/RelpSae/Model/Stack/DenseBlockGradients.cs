using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// The gradient buffers of a block with one fused Q | K | V map and an ungated MLP (GPT-2, GPT-NeoX), shared
/// by every block of a backward pass and kept by the run for the next one: the MLP's hidden rows, the normed
/// rows, the heads' output z and the fused Q | K | V rows.
/// </summary>
internal sealed class DenseBlockGradients : PooledBuffers
{
    public readonly float[] DHidden, DNormed, DZ, DQkv;

    public DenseBlockGradients(ModelFacts facts, int rows, FloatPool pool) : base(pool)
    {
        long n = rows;
        DHidden = Rent(n * facts.DMlp);
        DNormed = Rent(n * facts.DModel);
        DZ = Rent(n * facts.DModel);
        DQkv = Rent(n * 3 * facts.DModel);
    }
}
