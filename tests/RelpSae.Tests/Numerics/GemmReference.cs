using RelpSae.Numerics;

namespace RelpSae.Tests.Numerics;

/// <summary>A random product with padded leading dimensions, checked entry by entry against float64.</summary>
internal sealed class GemmCase
{
    public readonly int M, N, K, Lda, Ldb, Ldc;
    public readonly bool TransA, TransB;
    public readonly float[] A, B, C0;

    public GemmCase(int m, int n, int k, bool transA, bool transB, int pad = 0, int seed = 1)
    {
        (M, N, K, TransA, TransB) = (m, n, k, transA, transB);
        var rng = new Random(seed);
        Lda = (transA ? m : k) + pad;
        Ldb = (transB ? k : n) + pad;
        Ldc = n + pad;
        A = Random(rng, Stored(transA ? k : m, Lda));
        B = Random(rng, Stored(transB ? n : k, Ldb));
        C0 = Random(rng, Stored(m, Ldc));
    }

    public float OpA(int i, int p) => TransA ? A[p * Lda + i] : A[i * Lda + p];
    public float OpB(int p, int j) => TransB ? B[j * Ldb + p] : B[p * Ldb + j];

    /// <summary>op(A) [M×K] and op(B) [K×N] as the product reads them.</summary>
    public ReadOnlyMatrixView OpA() => TransA ? Matrix.Of(A, K, M, Lda).T : Matrix.Of(A, M, K, Lda);
    public ReadOnlyMatrixView OpB() => TransB ? Matrix.Of(B, N, K, Ldb).T : Matrix.Of(B, K, N, Ldb);

    public float[] Run(bool accumulate, GemmPath path = GemmPath.Best, int threads = 1)
    {
        var c = (float[])C0.Clone();
        Gemm.Multiply(OpA(), OpB(), Matrix.Into(c, M, N, Ldc), accumulate, threads, path);
        return c;
    }

    /// <summary>The same product with op(B) packed beforehand for <paramref name="path"/>.</summary>
    public float[] RunPacked(bool accumulate, GemmPath path = GemmPath.Best, int threads = 1)
    {
        var c = (float[])C0.Clone();
        var packed = new PackedMatrix(OpB(), path);
        Gemm.Multiply(OpA(), packed, Matrix.Into(c, M, N, Ldc), accumulate, threads);
        return c;
    }

    /// <summary>Asserts entry (i, j) of <paramref name="c"/> within float32 rounding of the exact value.</summary>
    public void AssertEntry(float[] c, int i, int j, bool accumulate)
    {
        double exact = accumulate ? C0[i * Ldc + j] : 0, scale = Math.Abs(exact);
        for (int p = 0; p < K; p++)
        {
            double term = (double)OpA(i, p) * OpB(p, j);
            exact += term;
            scale += Math.Abs(term);
        }
        double err = Math.Abs(c[i * Ldc + j] - exact);
        Assert.True(err <= 1e-5 * scale + 1e-30,
            $"C[{i},{j}] of {M}×{N}×{K} (transA={TransA}, transB={TransB}): got {c[i * Ldc + j]}, exact {exact}");
    }

    /// <summary>Every entry against float64, and the padding columns of C left exactly as they were.</summary>
    public void AssertAll(float[] c, bool accumulate)
    {
        for (int i = 0; i < M; i++)
        {
            for (int j = 0; j < N; j++) AssertEntry(c, i, j, accumulate);
            for (int j = N; j < Ldc && i * Ldc + j < c.Length; j++) Assert.Equal(C0[i * Ldc + j], c[i * Ldc + j]);
        }
    }

    private static int Stored(int rows, int ld) => rows == 0 ? 0 : (rows - 1) * ld + ld;

    private static float[] Random(Random rng, int count)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = (float)(rng.NextDouble() * 2 - 1);
        return x;
    }
}
