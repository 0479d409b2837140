using RelpSae.Numerics;

namespace RelpSae.Tests.Numerics;

public class PackedMatrixTests
{
    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 1 }, { 3, 49, 17 },         // one row; one column past a panel
        { 9, 97, 300 },                     // ragged rows, columns and depth (300 crosses KC)
        { 17, 96, 513 },                    // whole panels, depth over two KC blocks
        { 16, 80, 20 },                     // an edge of whole vectors, written straight into C
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EveryLayoutAndPathMatchesFloat64(int m, int n, int k)
    {
        foreach (var path in new[] { GemmPath.Vector512, GemmPath.Vector256, GemmPath.Scalar })
            foreach (bool transA in new[] { false, true })
                foreach (bool transB in new[] { false, true })
                    foreach (bool accumulate in new[] { false, true })
                    {
                        var g = new GemmCase(m, n, k, transA, transB, pad: 2, seed: m + n + k);
                        g.AssertAll(g.RunPacked(accumulate, path), accumulate);
                    }
    }

    [Theory]
    [InlineData(1, 4096, 300)]   // one row: column bands, the second starting inside the packed panels
    [InlineData(100, 400, 40)]   // row bands share every panel
    public void TwoThreadsMatchFloat64(int m, int n, int k)
    {
        Assert.True((long)m * n * k >= Gemm.ParallelThreshold, "shape too small to be split");
        foreach (var path in new[] { GemmPath.Vector512, GemmPath.Vector256, GemmPath.Scalar })
            foreach (bool transB in new[] { false, true })
            {
                var g = new GemmCase(m, n, k, transA: false, transB, pad: 1, seed: 3);
                g.AssertAll(g.RunPacked(accumulate: true, path, threads: 2), accumulate: true);
            }
    }

    [Fact]
    public void SameResultAsUnpackedBitForBit()
    {
        // Same kernel, same summation order: packing beforehand must not change a single bit.
        var g = new GemmCase(64, 200, 300, transA: false, transB: true, seed: 5);
        Assert.Equal(g.Run(accumulate: false), g.RunPacked(accumulate: false));
    }

    [Fact]
    public void OperandTooShortIsRejected()
    {
        var e = Assert.Throws<ArgumentException>(() => new PackedMatrix(new float[10], 3, 4, 4, false));
        Assert.Contains("B is stored 3×4", e.Message);
    }
}
