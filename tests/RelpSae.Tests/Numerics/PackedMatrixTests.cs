using RelpSae.Numerics;

namespace RelpSae.Tests.Numerics;

/// <summary>Products with a packed B are checked against float64 beside the unpacked ones in GemmTests.</summary>
public class PackedMatrixTests
{
    [Fact]
    public void SameResultAsUnpackedBitForBit()
    {
        // Same kernel, same summation order: packing beforehand must not change a single bit.
        var g = new GemmCase(64, 200, 300, transA: false, transB: true, seed: 5);
        Assert.Equal(g.Run(accumulate: false), g.RunPacked(accumulate: false));
    }

    [Fact]
    public void EveryRowGetsTheSameBitsWhateverTheBatch()
    {
        // What makes a patch that changes nothing measure exactly 0: one row alone or among 40.
        var g = new GemmCase(40, 300, 200, transA: false, transB: true, seed: 9);
        var packed = new PackedMatrix(g.OpB());
        var all = new float[40 * 300];
        Gemm.Multiply(g.OpA(), packed, Matrix.Into(all, 40, 300));
        var one = new float[300];
        Gemm.Multiply(Matrix.Of(g.A.AsSpan(17 * g.Lda), 1, g.K, g.Lda), packed, Matrix.Into(one, 1, 300));
        Assert.Equal(all.AsSpan(17 * 300, 300).ToArray(), one);
    }

    [Fact]
    public void OperandTooShortIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new PackedMatrix(Matrix.Of(new float[10], 3, 4)));
        Assert.Contains("B is stored 3×4", e.Message);
    }
}
