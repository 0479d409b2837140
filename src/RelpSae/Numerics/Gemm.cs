namespace RelpSae.Numerics;

/// <summary>Single-precision matrix multiply on row-major matrices.</summary>
public static class Gemm
{
    /// <summary>
    /// C[m×n] = op(A)·op(B) (or C += … when <paramref name="accumulate"/>), all row-major.
    /// op(A) is A[m×k] (lda ≥ k) or, transposed, Aᵀ with A stored [k×m] (lda ≥ m); likewise op(B)
    /// is B[k×n] (ldb ≥ n) or Bᵀ with B stored [n×k] (ldb ≥ k).
    /// </summary>
    public static void Multiply(int m, int n, int k,
        ReadOnlySpan<float> a, int lda, bool transA,
        ReadOnlySpan<float> b, int ldb, bool transB,
        Span<float> c, int ldc, bool accumulate = false)
    {
        // Reference implementation; replaced by the packed micro-kernel.
        for (int i = 0; i < m; i++)
            for (int j = 0; j < n; j++)
            {
                float s = 0;
                for (int p = 0; p < k; p++)
                    s += (transA ? a[p * lda + i] : a[i * lda + p]) * (transB ? b[j * ldb + p] : b[p * ldb + j]);
                c[i * ldc + j] = accumulate ? c[i * ldc + j] + s : s;
            }
    }
}
