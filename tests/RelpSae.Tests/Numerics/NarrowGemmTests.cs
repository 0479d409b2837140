using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using RelpSae.Numerics;

namespace RelpSae.Tests.Numerics;

/// <summary>Narrow products read in place (<see cref="NarrowGemm"/>) against the packed path's bits and against float64.</summary>
public class NarrowGemmTests
{
    // Rows: one micro-panel, ragged rows left to the packed path, attention's blocks; depths: one step, one block, three
    // blocks (the last 188 deep); widths: one to four vectors.
    public static TheoryData<int, int, bool> Shapes() => new()
    {
        { 8, 1, false }, { 37, 64, true }, { 64, 256, false }, { 300, 700, true }, { 301, 700, false }, { 64, 513, true },
    };

    [Theory, MemberData(nameof(Shapes))]
    public void Vector512GivesThePackedPathsBits(int m, int k, bool transA)
    {
        if (!Vector512.IsHardwareAccelerated || !Avx512F.IsSupported) return;
        AllWidths<Vector512<float>, Vector512Ops>(m, k, transA);
    }

    [Theory, MemberData(nameof(Shapes))]
    public void Vector256GivesThePackedPathsBits(int m, int k, bool transA)
    {
        if (!Vector256.IsHardwareAccelerated || !Fma.IsSupported) return;
        AllWidths<Vector256<float>, Vector256Ops>(m, k, transA);
    }

    [Theory, MemberData(nameof(Shapes))]
    public void ScalarGivesThePackedPathsBits(int m, int k, bool transA) => AllWidths<float, ScalarOps>(m, k, transA);

    private static void AllWidths<T, O>(int m, int k, bool transA) where T : struct where O : IKernelOps<T>
    {
        for (int vecs = 1; vecs <= 4; vecs++)
            foreach (var accumulate in new[] { false, true })
                Compare<T, O>(new GemmCase(m, vecs * O.Width, k, transA, transB: false, pad: 3, seed: m + k + vecs), accumulate);
    }

    private static unsafe void Compare<T, O>(GemmCase g, bool accumulate) where T : struct where O : IKernelOps<T>
    {
        float[] packed = (float[])g.C0.Clone(), narrow = (float[])g.C0.Clone();
        fixed (float* a = g.A, b = g.B, pp = packed, pn = narrow)
        {
            var problem = new GemmProblem(g.M, g.N, g.K, a, g.Lda, g.TransA, b, g.Ldb, false, pp, g.Ldc, accumulate);
            Assert.True(NarrowGemm.Handles(problem, O.Width, O.Rows));
            GemmDriver.Run<T, O>(problem);
            NarrowGemm.Run<T, O>(new GemmProblem(g.M, g.N, g.K, a, g.Lda, g.TransA, b, g.Ldb, false, pn, g.Ldc, accumulate));
        }
        Assert.Equal(packed, narrow);
        g.AssertAll(narrow, accumulate);
    }

    [Fact]
    public void TheProductsRouteTakesItOnOneAndTwoThreads()
    {
        // Attention's pattern·V at 512 tokens: the route's result is the packed path's, whichever way the threads cut it.
        if (!Avx512F.IsSupported) return;
        var g = new GemmCase(512, 64, 512, transA: false, transB: false, pad: 5, seed: 9);
        var packed = (float[])g.C0.Clone();
        unsafe
        {
            fixed (float* a = g.A, b = g.B, c = packed)
                GemmDriver.Run<Vector512<float>, Vector512Ops>(new GemmProblem(g.M, g.N, g.K, a, g.Lda, false, b, g.Ldb, false, c, g.Ldc, true));
        }
        foreach (var threads in new[] { 1, 2 })
            Assert.Equal(packed, g.Run(accumulate: true, threads: threads));
    }
}
