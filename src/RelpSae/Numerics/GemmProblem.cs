namespace RelpSae.Numerics;

/// <summary>
/// One product C[m×n] (+)= op(A)·op(B) on pinned row-major storage, with the element addressing of
/// each operand in one place, and the row/column slicing used to share it between threads.
/// </summary>
internal readonly unsafe struct GemmProblem(int m, int n, int k,
    float* a, int lda, bool transA, float* b, int ldb, bool transB, float* c, int ldc, bool accumulate)
{
    public readonly int M = m, N = n, K = k, Lda = lda, Ldb = ldb, Ldc = ldc;
    public readonly float* A = a, B = b, C = c;
    public readonly bool TransA = transA, TransB = transB, Accumulate = accumulate;

    /// <summary>op(B) already packed (<see cref="PackedMatrix.Data"/>; null: pack per call), its padded width, and the column this problem's column 0 is.</summary>
    public float* PackedB { get; private init; }
    public int PackedCols { get; private init; }
    public int PackedCol0 { get; private init; }

    /// <summary>A row added to every row of C (C = op(A)·B + bias; null: none), from this problem's column 0; only with a packed B.</summary>
    public float* Bias { get; private init; }

    public static GemmProblem WithPacked(int m, float* a, int lda, bool transA, PackedMatrix b, float* c, int ldc, bool accumulate, float* bias = null) =>
        new(m, b.Cols, b.Rows, a, lda, transA, null, b.Cols, transB: false, c, ldc, accumulate) { PackedB = b.Data, PackedCols = b.PaddedCols, Bias = bias };

    /// <summary>The packed panels of op(B) for the block at depth p0 (kc deep), from column j0 of this problem.</summary>
    public float* PackedBlock(int p0, int kc, int j0) => PackedB + (nint)p0 * PackedCols + (nint)(PackedCol0 + j0) * kc;

    /// <summary>Address of op(A)[i, p].</summary>
    public float* AAt(int i, int p) => TransA ? A + (nint)p * Lda + i : A + (nint)i * Lda + p;

    /// <summary>Address of op(B)[p, j].</summary>
    public float* BAt(int p, int j) => TransB ? B + (nint)j * Ldb + p : B + (nint)p * Ldb + j;

    public float* CAt(int i, int j) => C + (nint)i * Ldc + j;

    /// <summary>The same product restricted to rows [i0, i0+count) of C.</summary>
    public GemmProblem Rows(int i0, int count) =>
        new(count, N, K, AAt(i0, 0), Lda, TransA, B, Ldb, TransB, CAt(i0, 0), Ldc, Accumulate)
        { PackedB = PackedB, PackedCols = PackedCols, PackedCol0 = PackedCol0, Bias = Bias };

    /// <summary>The same product restricted to columns [j0, j0+count) of C (j0 a multiple of NR when B is packed).</summary>
    public GemmProblem Columns(int j0, int count) =>
        new(M, count, K, A, Lda, TransA, PackedB == null ? BAt(0, j0) : null, Ldb, TransB, CAt(0, j0), Ldc, Accumulate)
        { PackedB = PackedB, PackedCols = PackedCols, PackedCol0 = PackedCol0 + j0, Bias = Bias == null ? null : Bias + j0 };
}
