namespace RelpSae.Numerics;

/// <summary>
/// Copies blocks of op(A) and op(B) into the order the micro-kernel reads them, so every layout
/// (plain, transposed, any leading dimension) meets one kernel, reading memory front to back.
/// Ragged edges are padded with zeros up to a whole micro-panel: the kernel never needs a mask.
/// </summary>
internal static unsafe class Packing
{
    /// <summary>
    /// A block of mc rows × kc columns of op(A), starting at <paramref name="a"/>, into panels of
    /// <paramref name="mr"/> rows; within a panel, step p holds the mr values of column p.
    /// </summary>
    public static void PackA(float* a, int lda, bool transA, int mc, int kc, int mr, float* dst)
    {
        for (int i = 0; i < mc; i += mr, dst += mr * kc)
        {
            int rows = Math.Min(mr, mc - i);
            if (transA)
            {
                // Column p of op(A) is row p of the stored A: the panel's values lie side by side.
                float* src = a + i;
                for (int p = 0; p < kc; p++)
                    CopyPadded(src + (nint)p * lda, rows, dst + p * mr, mr);
            }
            else
            {
                float* src = a + (nint)i * lda;
                for (int p = 0; p < kc; p++)
                {
                    float* d = dst + p * mr;
                    for (int r = 0; r < rows; r++) d[r] = src[(nint)r * lda + p];
                    for (int r = rows; r < mr; r++) d[r] = 0;
                }
            }
        }
    }

    /// <summary>
    /// A block of kc rows × nc columns of op(B), starting at <paramref name="b"/>, into panels of
    /// <paramref name="nr"/> columns; within a panel, step p holds the nr values of row p.
    /// </summary>
    public static void PackB(float* b, int ldb, bool transB, int kc, int nc, int nr, float* dst)
    {
        for (int j = 0; j < nc; j += nr, dst += nr * kc)
        {
            int cols = Math.Min(nr, nc - j);
            if (transB)
            {
                // Row p of op(B) is column p of the stored B: gather it across cols stored rows.
                float* src = b + (nint)j * ldb;
                for (int p = 0; p < kc; p++)
                {
                    float* d = dst + p * nr;
                    for (int q = 0; q < cols; q++) d[q] = src[(nint)q * ldb + p];
                    for (int q = cols; q < nr; q++) d[q] = 0;
                }
            }
            else
            {
                float* src = b + j;
                for (int p = 0; p < kc; p++)
                    CopyPadded(src + (nint)p * ldb, cols, dst + p * nr, nr);
            }
        }
    }

    private static void CopyPadded(float* src, int count, float* dst, int width)
    {
        new ReadOnlySpan<float>(src, count).CopyTo(new Span<float>(dst, count));
        if (count < width) new Span<float>(dst + count, width - count).Clear();
    }
}
