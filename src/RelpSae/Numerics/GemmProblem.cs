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

    /// <summary>
    /// op(B)'s packed panels (<see cref="PackedMatrix.Data"/>; null: pack per call), their padded width, and the column this
    /// problem's column 0 is; <see cref="PanelsTransposed"/>: op(B) is the transpose of the packed matrix, whose rows
    /// (<see cref="PanelRows"/> of them) are then this problem's columns.
    /// </summary>
    public byte* Panels { get; private init; }
    public int PanelCols { get; private init; }
    public int PanelCol0 { get; private init; }
    public int PanelRows { get; private init; }
    public PanelElement Element { get; private init; }
    public bool PanelsTransposed { get; private init; }

    /// <summary>A row added to every row of C (C = op(A)·B + bias; null: none), from this problem's column 0; only with a packed B.</summary>
    public float* Bias { get; private init; }

    /// <summary>Panels op(B)'s blocks are read from as they lie (widened when 16-bit); not transposed nor packed per call.</summary>
    public bool ReadsPanels => Panels != null && !PanelsTransposed;

    public static GemmProblem WithPacked(int m, float* a, int lda, bool transA, PackedMatrix b, float* c, int ldc, bool accumulate, float* bias = null) =>
        new(m, b.Cols, b.Rows, a, lda, transA, null, b.Cols, transB: false, c, ldc, accumulate)
        { Panels = b.Data, PanelCols = b.PaddedCols, PanelRows = b.Rows, Element = b.Element, Bias = bias };

    /// <summary>C (+)= op(A)·Pᵀ with P packed: this problem's columns are P's rows, its depth P's columns.</summary>
    public static GemmProblem WithPackedTranspose(int m, float* a, int lda, bool transA, PackedMatrix p, float* c, int ldc, bool accumulate) =>
        new(m, p.Rows, p.Cols, a, lda, transA, null, p.Rows, transB: false, c, ldc, accumulate)
        { Panels = p.Data, PanelCols = p.PaddedCols, PanelRows = p.Rows, Element = p.Element, PanelsTransposed = true };

    /// <summary>The packed panels of op(B) for the block at depth p0 (kc deep), from column j0 of this problem.</summary>
    public byte* PanelBlock(int p0, int kc, int j0) => Panels + ((nint)p0 * PanelCols + (nint)(PanelCol0 + j0) * kc) * Element.Size();

    /// <summary>Address of op(A)[i, p].</summary>
    public float* AAt(int i, int p) => TransA ? A + (nint)p * Lda + i : A + (nint)i * Lda + p;

    /// <summary>Address of op(B)[p, j].</summary>
    public float* BAt(int p, int j) => TransB ? B + (nint)j * Ldb + p : B + (nint)p * Ldb + j;

    public float* CAt(int i, int j) => C + (nint)i * Ldc + j;

    /// <summary>The same product restricted to rows [i0, i0+count) of C.</summary>
    public GemmProblem Rows(int i0, int count) =>
        new(count, N, K, AAt(i0, 0), Lda, TransA, B, Ldb, TransB, CAt(i0, 0), Ldc, Accumulate)
        { Panels = Panels, PanelCols = PanelCols, PanelCol0 = PanelCol0, PanelRows = PanelRows, Element = Element, PanelsTransposed = PanelsTransposed, Bias = Bias };

    /// <summary>The same product restricted to columns [j0, j0+count) of C (j0 a multiple of NR when B's panels are read as they lie).</summary>
    public GemmProblem Columns(int j0, int count) =>
        new(M, count, K, A, Lda, TransA, Panels == null ? BAt(0, j0) : null, Ldb, TransB, CAt(0, j0), Ldc, Accumulate)
        {
            Panels = Panels, PanelCols = PanelCols, PanelCol0 = PanelCol0 + j0, PanelRows = PanelRows, Element = Element,
            PanelsTransposed = PanelsTransposed, Bias = Bias == null ? null : Bias + j0,
        };
}
