using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RelpSae.Numerics;

/// <summary>
/// Copies blocks of op(A) and op(B) into the order the micro-kernel reads them, so every layout
/// (plain, transposed, any leading dimension) meets one kernel, reading memory front to back.
/// Ragged edges are padded with zeros up to a whole micro-panel: the kernel never needs a mask.
/// Hot from the first product on, so compiled fully optimised at once (no tiering).
/// </summary>
internal static unsafe class Packing
{
    /// <summary>
    /// A block of mc rows × kc columns of op(A), starting at <paramref name="a"/>, into panels of
    /// <paramref name="mr"/> rows; within a panel, step p holds the mr values of column p.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackA(float* a, int lda, bool transA, int mc, int kc, int mr, float* dst)
    {
        if (transA && mr == 8 && Vector256.IsHardwareAccelerated)
        {
            // Stored rows are read front to back, each giving its 8 values to every whole panel: walking down
            // one panel's column instead (a cache line per 8 values) left attention's transposed pattern
            // waiting on memory.
            int whole = mc / 8 * 8;
            for (int p = 0; p < kc; p++)
            {
                float* src = a + (nint)p * lda, d = dst + p * 8;
                for (int i = 0; i < whole; i += 8, d += 8 * kc) Vector256.Load(src + i).Store(d);
            }
            if (whole == mc) return;
            a += whole;
            dst += whole * kc;
            mc -= whole;
        }
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
                // Column p of the panel gathers one value from each of mr rows: a transpose, done
                // 8×8 at a time when the panel is 8 rows high (the scalar gather was 6% of a 1024³
                // product in the profile).
                float* src = a + (nint)i * lda;
                int p0 = 0;
                if (Avx.IsSupported && mr == 8 && rows == 8)
                    for (; p0 + 8 <= kc; p0 += 8) Transpose8x8(src + p0, lda, dst + p0 * mr, mr);
                for (int p = p0; p < kc; p++)
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
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void PackB(float* b, int ldb, bool transB, int kc, int nc, int nr, float* dst)
    {
        for (int j = 0; j < nc; j += nr, dst += nr * kc)
        {
            int cols = Math.Min(nr, nc - j);
            if (transB)
                Transpose(b + (nint)j * ldb, ldb, cols, kc, dst, nr);
            else if (cols == 48 && nr == 48 && Vector512.IsHardwareAccelerated)
            {
                // A whole AVX-512 panel row is three vectors: copied inline (a Memmove call per
                // 192 bytes was 4% of a 1024³ product in the profile).
                float* src = b + j;
                for (int p = 0; p < kc; p++, src += ldb)
                {
                    float* d = dst + p * 48;
                    Vector512.Load(src).Store(d);
                    Vector512.Load(src + 16).Store(d + 16);
                    Vector512.Load(src + 32).Store(d + 32);
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

    /// <summary>dst[p·nr + q] = src[q·ld + p] for q &lt; rows, p &lt; cols, zeros for rows ≤ q &lt; nr: row p of op(B) = Bᵀ is column p of the stored B.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose(float* src, int ld, int rows, int cols, float* dst, int nr)
    {
        TransposeInto(src, ld, rows, cols, dst, nr);
        for (int p = 0; p < cols; p++) ClearLanes(dst + p * nr, rows, nr);
    }

    /// <summary>
    /// dst[p·nr + q] = src[q·ld + p] for q &lt; rows, p &lt; cols, nothing else written. By 16×16 blocks in AVX-512
    /// registers where it can, then 8×8 in AVX (the packing of Bᵀ otherwise costs as much as the product for few
    /// rows), element by element elsewhere.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    internal static void TransposeInto(float* src, int ld, int rows, int cols, float* dst, int nr)
    {
        int q0 = 0;
        // 16×16 blocks: GPT-2's backward products spent 5–10 % of their time here in 8×8 ones (docs/performance-log.md).
        if (Avx512F.IsSupported)
            for (; q0 + 16 <= rows; q0 += 16)
            {
                int p0 = 0;
                for (; p0 + 16 <= cols; p0 += 16) Transpose16x16.Copy(src + (nint)q0 * ld + p0, ld, dst + p0 * nr + q0, nr);
                for (; p0 + 8 <= cols; p0 += 8)
                {
                    Transpose8x8(src + (nint)q0 * ld + p0, ld, dst + p0 * nr + q0, nr);
                    Transpose8x8(src + (nint)(q0 + 8) * ld + p0, ld, dst + p0 * nr + q0 + 8, nr);
                }
                TransposeScalar(src + (nint)q0 * ld, ld, q0, q0 + 16, p0, cols, dst, nr);
            }
        if (Avx.IsSupported)
            for (; q0 + 8 <= rows; q0 += 8)
            {
                int p0 = 0;
                for (; p0 + 8 <= cols; p0 += 8) Transpose8x8(src + (nint)q0 * ld + p0, ld, dst + p0 * nr + q0, nr);
                TransposeScalar(src + (nint)q0 * ld, ld, q0, q0 + 8, p0, cols, dst, nr);
            }
        TransposeScalar(src + (nint)q0 * ld, ld, q0, rows, 0, cols, dst, nr);
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void TransposeScalar(float* src, int ld, int q0, int q1, int p0, int p1, float* dst, int nr)
    {
        for (int q = q0; q < q1; q++)
            for (int p = p0; p < p1; p++) dst[p * nr + q] = src[(nint)(q - q0) * ld + p];
    }

    /// <summary>The textbook AVX 8×8 transpose: unpack pairs, shuffle quads, swap 128-bit halves.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Transpose8x8(float* src, int ld, float* dst, int nr)
    {
        Vector256<float> r0 = Avx.LoadVector256(src), r1 = Avx.LoadVector256(src + ld),
            r2 = Avx.LoadVector256(src + 2 * ld), r3 = Avx.LoadVector256(src + 3 * ld),
            r4 = Avx.LoadVector256(src + 4 * ld), r5 = Avx.LoadVector256(src + 5 * ld),
            r6 = Avx.LoadVector256(src + 6 * ld), r7 = Avx.LoadVector256(src + 7 * ld);
        Vector256<float> t0 = Avx.UnpackLow(r0, r1), t1 = Avx.UnpackHigh(r0, r1),
            t2 = Avx.UnpackLow(r2, r3), t3 = Avx.UnpackHigh(r2, r3),
            t4 = Avx.UnpackLow(r4, r5), t5 = Avx.UnpackHigh(r4, r5),
            t6 = Avx.UnpackLow(r6, r7), t7 = Avx.UnpackHigh(r6, r7);
        Vector256<float> s0 = Avx.Shuffle(t0, t2, 0x44), s1 = Avx.Shuffle(t0, t2, 0xEE),
            s2 = Avx.Shuffle(t1, t3, 0x44), s3 = Avx.Shuffle(t1, t3, 0xEE),
            s4 = Avx.Shuffle(t4, t6, 0x44), s5 = Avx.Shuffle(t4, t6, 0xEE),
            s6 = Avx.Shuffle(t5, t7, 0x44), s7 = Avx.Shuffle(t5, t7, 0xEE);
        Avx.Store(dst, Avx.Permute2x128(s0, s4, 0x20));
        Avx.Store(dst + nr, Avx.Permute2x128(s1, s5, 0x20));
        Avx.Store(dst + 2 * nr, Avx.Permute2x128(s2, s6, 0x20));
        Avx.Store(dst + 3 * nr, Avx.Permute2x128(s3, s7, 0x20));
        Avx.Store(dst + 4 * nr, Avx.Permute2x128(s0, s4, 0x31));
        Avx.Store(dst + 5 * nr, Avx.Permute2x128(s1, s5, 0x31));
        Avx.Store(dst + 6 * nr, Avx.Permute2x128(s2, s6, 0x31));
        Avx.Store(dst + 7 * nr, Avx.Permute2x128(s3, s7, 0x31));
    }

    /// <summary>
    /// dst[0..width) = src[0..count) then zeros, in whole vectors where they fit: a Memmove and a Clear call per row
    /// of 8 or 16 values were 20 % of GPT-2's attention backward at 512 tokens (the transposed pattern packed as A,
    /// a 64-wide head's 16-column edge as B). Masked AVX-512 loads and stores measured slower than the calls.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void CopyPadded(float* src, int count, float* dst, int width)
    {
        int q = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; q + 16 <= count; q += 16) Vector512.Load(src + q).Store(dst + q);
        if (Vector256.IsHardwareAccelerated)
            for (; q + 8 <= count; q += 8) Vector256.Load(src + q).Store(dst + q);
        for (; q < count; q++) dst[q] = src[q];
        ClearLanes(dst, count, width);
    }

    /// <summary>
    /// dst[from..width) = 0 in whole vectors where they fit: a panel row's padding, too short for a Clear call to pay
    /// (see <see cref="CopyPadded"/>). dyᵀ packed for the 1×32 backward's products is 48-wide rows with 16 lanes of
    /// padding: a Clear call each was 0.31 % of the pass's samples, the stores inline 0.17 %.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static void ClearLanes(float* dst, int from, int width)
    {
        int q = from;
        if (Vector512.IsHardwareAccelerated)
            for (; q + 16 <= width; q += 16) Vector512<float>.Zero.Store(dst + q);
        if (Vector256.IsHardwareAccelerated)
            for (; q + 8 <= width; q += 8) Vector256<float>.Zero.Store(dst + q);
        for (; q < width; q++) dst[q] = 0;
    }
}
