using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RelpSae.Numerics;

/// <summary>
/// A 16×16 block of floats transposed in AVX-512 registers: rows r0…r15 in, columns w0…w15 out (wL holds lane L of
/// every row, row i in lane i). Four rounds of 16 shuffles: pairs and quads of rows interleaved within each 128-bit
/// lane, then a 4×4 transpose of the 128-bit lanes. 64 shuffles for 256 values, where 8×8 AVX blocks take 40 for 64.
/// </summary>
internal static class Transpose16x16
{
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static void Run(
        Vector512<float> r0, Vector512<float> r1, Vector512<float> r2, Vector512<float> r3,
        Vector512<float> r4, Vector512<float> r5, Vector512<float> r6, Vector512<float> r7,
        Vector512<float> r8, Vector512<float> r9, Vector512<float> r10, Vector512<float> r11,
        Vector512<float> r12, Vector512<float> r13, Vector512<float> r14, Vector512<float> r15,
        out Vector512<float> w0, out Vector512<float> w1, out Vector512<float> w2, out Vector512<float> w3,
        out Vector512<float> w4, out Vector512<float> w5, out Vector512<float> w6, out Vector512<float> w7,
        out Vector512<float> w8, out Vector512<float> w9, out Vector512<float> w10, out Vector512<float> w11,
        out Vector512<float> w12, out Vector512<float> w13, out Vector512<float> w14, out Vector512<float> w15)
    {
        // Within each 128-bit lane k: uC of rows 4g..4g+3 holds their column 4k + C.
        var (u0, u1, u2, u3) = Quad(r0, r1, r2, r3);
        var (u4, u5, u6, u7) = Quad(r4, r5, r6, r7);
        var (u8, u9, u10, u11) = Quad(r8, r9, r10, r11);
        var (u12, u13, u14, u15) = Quad(r12, r13, r14, r15);
        // Column 4k + C gathers 128-bit lane k of uC, uC+4, uC+8, uC+12.
        (w0, w4, w8, w12) = Lanes(u0, u4, u8, u12);
        (w1, w5, w9, w13) = Lanes(u1, u5, u9, u13);
        (w2, w6, w10, w14) = Lanes(u2, u6, u10, u14);
        (w3, w7, w11, w15) = Lanes(u3, u7, u11, u15);
    }

    /// <summary>The 16×16 block at <paramref name="src"/> (rows <paramref name="ld"/> apart) into <paramref name="dst"/> transposed (rows <paramref name="ldDst"/> apart).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Copy(float* src, int ld, float* dst, int ldDst)
    {
        Run(Vector512.Load(src), Vector512.Load(src + ld), Vector512.Load(src + 2 * ld), Vector512.Load(src + 3 * ld),
            Vector512.Load(src + 4 * ld), Vector512.Load(src + 5 * ld), Vector512.Load(src + 6 * ld), Vector512.Load(src + 7 * ld),
            Vector512.Load(src + 8 * ld), Vector512.Load(src + 9 * ld), Vector512.Load(src + 10 * ld), Vector512.Load(src + 11 * ld),
            Vector512.Load(src + 12 * ld), Vector512.Load(src + 13 * ld), Vector512.Load(src + 14 * ld), Vector512.Load(src + 15 * ld),
            out var w0, out var w1, out var w2, out var w3, out var w4, out var w5, out var w6, out var w7,
            out var w8, out var w9, out var w10, out var w11, out var w12, out var w13, out var w14, out var w15);
        w0.Store(dst); w1.Store(dst + ldDst); w2.Store(dst + 2 * ldDst); w3.Store(dst + 3 * ldDst);
        w4.Store(dst + 4 * ldDst); w5.Store(dst + 5 * ldDst); w6.Store(dst + 6 * ldDst); w7.Store(dst + 7 * ldDst);
        w8.Store(dst + 8 * ldDst); w9.Store(dst + 9 * ldDst); w10.Store(dst + 10 * ldDst); w11.Store(dst + 11 * ldDst);
        w12.Store(dst + 12 * ldDst); w13.Store(dst + 13 * ldDst); w14.Store(dst + 14 * ldDst); w15.Store(dst + 15 * ldDst);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) Quad(
        Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d)
    {
        Vector512<double> ab0 = Avx512F.UnpackLow(a, b).AsDouble(), ab1 = Avx512F.UnpackHigh(a, b).AsDouble();
        Vector512<double> cd0 = Avx512F.UnpackLow(c, d).AsDouble(), cd1 = Avx512F.UnpackHigh(c, d).AsDouble();
        return (Avx512F.UnpackLow(ab0, cd0).AsSingle(), Avx512F.UnpackHigh(ab0, cd0).AsSingle(),
            Avx512F.UnpackLow(ab1, cd1).AsSingle(), Avx512F.UnpackHigh(ab1, cd1).AsSingle());
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float>, Vector512<float>, Vector512<float>, Vector512<float>) Lanes(
        Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d)
    {
        Vector512<float> ab0 = Avx512F.Shuffle4x128(a, b, 0x44), ab1 = Avx512F.Shuffle4x128(a, b, 0xEE);
        Vector512<float> cd0 = Avx512F.Shuffle4x128(c, d, 0x44), cd1 = Avx512F.Shuffle4x128(c, d, 0xEE);
        return (Avx512F.Shuffle4x128(ab0, cd0, 0x88), Avx512F.Shuffle4x128(ab0, cd0, 0xDD),
            Avx512F.Shuffle4x128(ab1, cd1, 0x88), Avx512F.Shuffle4x128(ab1, cd1, 0xDD));
    }
}
