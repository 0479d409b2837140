using RelpSae.Numerics;

namespace RelpSae.Tests.Numerics;

public class GemmTests
{
    [Fact]
    public void SmallProductMatchesHandComputed()
    {
        float[] a = [1, 2, 3, 4, 5, 6];     // 2×3
        float[] b = [7, 8, 9, 10, 11, 12];  // 3×2
        var c = new float[4];
        Gemm.Multiply(Matrix.Of(a, 2, 3), Matrix.Of(b, 3, 2), Matrix.Into(c, 2, 2));
        Assert.Equal([58f, 64f, 139f, 154f], c);
    }

    public static TheoryData<int, int, int> Shapes => new()
    {
        { 1, 1, 1 }, { 7, 13, 5 }, { 8, 48, 1 }, { 9, 49, 17 }, { 6, 16, 3 }, { 4, 3, 2 },
        { 17, 97, 300 }, { 13, 350, 400 }, { 17, 96, 513 }, { 970, 5, 3 }, { 4090, 9, 20 },  // 4090 rows cross MC
        { 3, 200, 70 }, { 15, 67, 33 },  // few rows: B read unpacked, ragged columns packed
        { 16, 80, 20 }, { 8, 64, 5 }, { 12, 72, 9 },  // edges of whole vectors, written straight into C
    };

    [Theory]
    [MemberData(nameof(Shapes))]
    public void EveryLayoutPathAndPaddingMatchesFloat64(int m, int n, int k)
    {
        foreach (var path in new[] { GemmPath.Vector512, GemmPath.Vector256, GemmPath.Scalar })
            foreach (bool transA in new[] { false, true })
                foreach (bool transB in new[] { false, true })
                    foreach (int pad in new[] { 0, 3 })
                        foreach (bool accumulate in new[] { false, true })
                        {
                            var g = new GemmCase(m, n, k, transA, transB, pad, seed: m + n + k + pad);
                            g.AssertAll(g.Run(accumulate, path), accumulate);
                            g.AssertAll(g.RunPacked(accumulate, path), accumulate);   // B packed beforehand
                        }
    }

    [Theory]
    [InlineData(100, 400, 40)]   // column bands (a packed B: row bands sharing it)
    [InlineData(300, 20, 200)]   // too few columns: row bands
    [InlineData(1, 2304, 768)]   // one token through a layer (a packed B: column bands inside its panels)
    public void TwoThreadsMatchFloat64(int m, int n, int k)
    {
        Assert.True((long)m * n * k >= Gemm.ParallelThreshold, "shape too small to be split");
        foreach (var path in new[] { GemmPath.Vector512, GemmPath.Vector256, GemmPath.Scalar })
            foreach (bool transA in new[] { false, true })
                foreach (bool transB in new[] { false, true })
                {
                    var g = new GemmCase(m, n, k, transA, transB, pad: 1, seed: 7);
                    g.AssertAll(g.Run(accumulate: true, path, threads: 2), accumulate: true);
                    g.AssertAll(g.RunPacked(accumulate: true, path, threads: 2), accumulate: true);
                }
    }

    [Fact]
    public void ZeroDepthClearsOrKeepsC()
    {
        var g = new GemmCase(3, 4, 0, false, false, pad: 2);
        var cleared = g.Run(accumulate: false);
        var kept = g.Run(accumulate: true);
        for (int i = 0; i < 3; i++)
            for (int j = 0; j < 6; j++)
            {
                Assert.Equal(j < 4 ? 0f : g.C0[i * 6 + j], cleared[i * 6 + j]);
                Assert.Equal(g.C0[i * 6 + j], kept[i * 6 + j]);
            }
    }

    [Fact]
    public void LogitsShapeSampledAgainstFloat64()
    {
        // 64 positions × 768 against the 50257-row embedding, as the unembedding computes it (A·Bᵀ).
        var g = new GemmCase(64, 50257, 768, transA: false, transB: true, seed: 3);
        var c = g.Run(accumulate: false, threads: Threads.Count);
        var rng = new Random(5);
        for (int s = 0; s < 300; s++) g.AssertEntry(c, rng.Next(64), rng.Next(50257), accumulate: false);
        for (int i = 0; i < 64; i++) g.AssertEntry(c, i, 50256, accumulate: false);
    }

    [Fact]
    public void ConcurrentCallersEachGetTheirOwnProduct()
    {
        var cases = Enumerable.Range(0, 6).Select(s => new GemmCase(40 + s, 200, 150, s % 2 == 0, s % 3 == 0, seed: s)).ToArray();
        var results = new float[cases.Length][];
        Parallel.For(0, cases.Length, s => results[s] = cases[s].Run(accumulate: false, threads: 2));
        for (int s = 0; s < cases.Length; s++) cases[s].AssertAll(results[s], accumulate: false);
    }

    [Fact]
    public void OperandTooShortIsRejected()
    {
        var a = new float[11];  // 3×4 needs 12
        var ex = Assert.Throws<ArgumentException>(() =>
            Gemm.Multiply(Matrix.Of(a, 3, 4), Matrix.Of(new float[8], 4, 2), Matrix.Into(new float[6], 3, 2)));
        Assert.Contains("needs 12 floats", ex.Message);
        Assert.Throws<ArgumentOutOfRangeException>(() =>
            Gemm.Multiply(Matrix.Of(new float[12], 3, 4, 3), Matrix.Of(new float[8], 4, 2), Matrix.Into(new float[6], 3, 2)));
    }

    [Fact]
    public void OperandsThatDoNotChainAreRejected()
    {
        var ex = Assert.Throws<ArgumentException>(() =>
            Gemm.Multiply(Matrix.Of(new float[12], 3, 4), Matrix.Of(new float[8], 4, 2).T, Matrix.Into(new float[6], 3, 2)));
        Assert.Contains("A is 3×4 but B is 2×4", ex.Message);
        ex = Assert.Throws<ArgumentException>(() =>
            Gemm.Multiply(Matrix.Of(new float[12], 3, 4), Matrix.Of(new float[8], 4, 2), Matrix.Into(new float[6], 2, 3)));
        Assert.Contains("C is 2×3 but A·B is 3×2", ex.Message);
    }
}

public class GemmSteadyStateTests
{
    [Theory]
    [InlineData(64, 300, 100, false, 1)]
    [InlineData(3, 300, 100, true, 1)]     // few rows, unpacked path
    [InlineData(128, 256, 64, true, 2)]    // split over the worker team
    public void RepeatedProductsAllocateNothing(int m, int n, int k, bool transB, int threads)
    {
        var g = new GemmCase(m, n, k, transA: false, transB);
        var c = new float[g.C0.Length];
        void Run() => Gemm.Multiply(g.OpA(), g.OpB(), Matrix.Into(c, m, n, g.Ldc), accumulate: false, threads);
        // The first call grows this thread's pack buffers; the rest let tiered compilation settle, since
        // the runtime's call counting may allocate while a method is promoted.
        for (int r = 0; r < 60; r++) Run();
        long before = GC.GetAllocatedBytesForCurrentThread();
        for (int r = 0; r < 5; r++) Run();
        Assert.Equal(before, GC.GetAllocatedBytesForCurrentThread());
        g.AssertAll(c, accumulate: false);
    }
}
