using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RelpSae.Numerics;

/// <summary>
/// Products of few rows with the transpose of packed panels, C = A·Pᵀ (a backward's dy·Wᵀ on the metric rows), read
/// from P's panels where they lie: each 16×16 piece of a panel (16 of P's rows, 16 lanes) is transposed in registers
/// and its 16 columns fed to the FMAs in order. The tiled path transposes whole blocks of P into a buffer first and then
/// runs an 8-row tile mostly empty, which kept a one-row product at a fifth of the memory's read rate.
/// The sums are <see cref="GemmDriver"/>'s, in its order: per KC block of the depth (P's columns), from zero in order,
/// then added to C, so a row's gradient does not depend on how many rows share its product.
/// </summary>
internal static unsafe class PanelRowsTransposed
{
    /// <summary>Rows handled here; measured against the tiled path on GPT-2's and Gemma-2-2B's weights (docs/performance-log.md).</summary>
    internal const int MaxRows = 4;

    private const int Width = 16, Nr = 3 * Width, Kc = GemmDriver.KC;

    /// <summary>Whether this product is one for this path: few rows, float32 or bfloat16 panels cut for the 512-bit kernel, read transposed.</summary>
    public static bool Handles(in GemmProblem g) =>
        g.PanelsTransposed && g.M <= MaxRows && Avx512F.IsSupported && g.Element is PanelElement.Float32 or PanelElement.BFloat16;

    public static void Run(in GemmProblem g)
    {
        if (g.Element == PanelElement.BFloat16) Run<BFloat16Panel>(g);
        else Run<Float32Panel>(g);
    }

    /// <summary>Generic over the panels' element, so that a piece's sixteen loads are at constant offsets.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    private static void Run<E>(in GemmProblem g) where E : struct, IPanelLoad
    {
        // This problem's columns [0, N) are P's rows [first, first + N); its depth [0, K) is P's columns.
        int first = g.PanelCol0, end = first + g.N, size = E.Size, aStep = g.TransA ? g.Lda : 1;
        var sums = stackalloc Vector512<float>[g.M * (Kc / Width)];
        var column = stackalloc Vector512<float>[Width];
        for (int b0 = first / Kc * Kc; b0 < end; b0 += Kc)
        {
            // P's rows [b0 + ra, b0 + rb) of the block at b0 (kcP deep), in groups of 16 that are lanes of a sum.
            int kcP = Math.Min(Kc, g.PanelRows - b0), ra = Math.Max(first, b0) - b0, rb = Math.Min(end, b0 + kcP) - b0;
            int groups = (rb - ra + Width - 1) / Width;
            new Span<Vector512<float>>(sums, g.M * groups).Clear();
            byte* block = g.Panels + (nint)b0 * g.PanelCols * size;
            // The panels are read a lane of 16 at a time, every third line: the next panel's lines (the next block's first,
            // after the last) are pulled into L2 in order, a tile's share at each tile.
            long span = (long)(rb - ra) * Nr * size;
            int share = (int)((span / 64 + 3 * groups - 1) / (3 * groups));
            for (int pp = 0; pp < g.K; pp += Nr)
            {
                byte* panel = block + (nint)pp * kcP * size;
                byte* ahead = pp + Nr < g.K ? panel + (nint)kcP * Nr * size + (nint)ra * Nr * size
                    : block + (nint)Kc * g.PanelCols * size;
                for (int lane = 0; lane < Nr && pp + lane < g.K; lane += Width)
                {
                    int q = pp + lane, valid = Math.Min(Width, g.K - q);
                    if (q % Kc == 0 && q > 0) Flush(g, sums, groups, q / Kc - 1, b0 + ra - first, rb - ra);
                    // Group by group: each group's sums are a chain of FMAs, and the next group's is independent of it.
                    for (int gi = 0; gi < groups; gi++)
                    {
                        int r0 = ra + gi * Width;
                        for (int l = 0; l < share; l++, ahead += 64) Sse.Prefetch1(ahead);
                        Transpose<E>(panel + ((nint)r0 * Nr + lane) * size, kcP - r0, out var w0, out var w1, out var w2, out var w3,
                            out var w4, out var w5, out var w6, out var w7, out var w8, out var w9, out var w10, out var w11,
                            out var w12, out var w13, out var w14, out var w15);
                        for (int r = 0; r < g.M; r++)
                        {
                            float* a = g.AAt(r, q);
                            // A local, not a reference into sums: a chain through memory would wait on a store at each step.
                            var s = sums[r * groups + gi];
                            if (valid == Width) s = aStep == 1 ? Chain(a, 1, s, w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15)
                                : Chain(a, aStep, s, w0, w1, w2, w3, w4, w5, w6, w7, w8, w9, w10, w11, w12, w13, w14, w15);
                            else
                            {
                                // The depth's ragged end: only the columns that exist (A has no values past it).
                                column[0] = w0; column[1] = w1; column[2] = w2; column[3] = w3; column[4] = w4; column[5] = w5; column[6] = w6; column[7] = w7;
                                column[8] = w8; column[9] = w9; column[10] = w10; column[11] = w11; column[12] = w12; column[13] = w13; column[14] = w14; column[15] = w15;
                                for (int l = 0; l < valid; l++) s = Avx512F.FusedMultiplyAdd(Vector512.Create(a[(nint)l * aStep]), column[l], s);
                            }
                            sums[r * groups + gi] = s;
                        }
                    }
                }
            }
            Flush(g, sums, groups, (g.K - 1) / Kc, b0 + ra - first, rb - ra);
        }
    }

    /// <summary>
    /// The sums over depth block <paramref name="chunk"/> into C's columns [j, j + count) of every row, as the micro-kernel
    /// writes a tile: stored over the first block unless accumulating, else added to C; then cleared for the next block.
    /// </summary>
    private static void Flush(in GemmProblem g, Vector512<float>* sums, int groups, int chunk, int j, int count)
    {
        bool add = g.Accumulate || chunk > 0;
        float* lanes = stackalloc float[Width];
        for (int r = 0; r < g.M; r++)
            for (int gi = 0; gi < groups; gi++)
            {
                ref var s = ref sums[r * groups + gi];
                float* c = g.CAt(r, j + gi * Width);
                int n = Math.Min(Width, count - gi * Width);
                if (n == Width) (add ? s + Vector512.Load(c) : s).Store(c);
                else
                {
                    s.Store(lanes);
                    for (int q = 0; q < n; q++) c[q] = add ? lanes[q] + c[q] : lanes[q];
                }
                s = default;
            }
    }

    /// <summary>
    /// The 16×16 piece at <paramref name="piece"/> (rows Nr elements apart, of which <paramref name="rows"/> exist: the rest
    /// read as zeros) transposed: wL holds lane L of the 16 rows, row i in lane i.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Transpose<E>(byte* piece, int rows,
        out Vector512<float> w0, out Vector512<float> w1, out Vector512<float> w2, out Vector512<float> w3,
        out Vector512<float> w4, out Vector512<float> w5, out Vector512<float> w6, out Vector512<float> w7,
        out Vector512<float> w8, out Vector512<float> w9, out Vector512<float> w10, out Vector512<float> w11,
        out Vector512<float> w12, out Vector512<float> w13, out Vector512<float> w14, out Vector512<float> w15) where E : struct, IPanelLoad
    {
        const int row = Nr;   // elements from one of P's rows to the next within a panel
        if (rows >= Width)
            Transpose16x16.Run(E.Load(piece, 0), E.Load(piece, row), E.Load(piece, 2 * row), E.Load(piece, 3 * row),
                E.Load(piece, 4 * row), E.Load(piece, 5 * row), E.Load(piece, 6 * row), E.Load(piece, 7 * row),
                E.Load(piece, 8 * row), E.Load(piece, 9 * row), E.Load(piece, 10 * row), E.Load(piece, 11 * row),
                E.Load(piece, 12 * row), E.Load(piece, 13 * row), E.Load(piece, 14 * row), E.Load(piece, 15 * row),
                out w0, out w1, out w2, out w3, out w4, out w5, out w6, out w7, out w8, out w9, out w10, out w11, out w12, out w13, out w14, out w15);
        else
            Transpose16x16.Run(Row<E>(piece, 0, rows), Row<E>(piece, 1, rows), Row<E>(piece, 2, rows), Row<E>(piece, 3, rows),
                Row<E>(piece, 4, rows), Row<E>(piece, 5, rows), Row<E>(piece, 6, rows), Row<E>(piece, 7, rows),
                Row<E>(piece, 8, rows), Row<E>(piece, 9, rows), Row<E>(piece, 10, rows), Row<E>(piece, 11, rows),
                Row<E>(piece, 12, rows), Row<E>(piece, 13, rows), Row<E>(piece, 14, rows), Row<E>(piece, 15, rows),
                out w0, out w1, out w2, out w3, out w4, out w5, out w6, out w7, out w8, out w9, out w10, out w11, out w12, out w13, out w14, out w15);
    }

    /// <summary>Row <paramref name="i"/> of a piece of which <paramref name="rows"/> exist, zeros past them (the panel may end there).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Row<E>(byte* piece, int i, int rows) where E : struct, IPanelLoad =>
        i < rows ? E.Load(piece, i * Nr) : default;

    /// <summary>s plus a[0]·w0, then a[step]·w1, … a[15·step]·w15, in that order: the micro-kernel's order along the depth.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Chain(float* a, nint step, Vector512<float> s,
        Vector512<float> w0, Vector512<float> w1, Vector512<float> w2, Vector512<float> w3,
        Vector512<float> w4, Vector512<float> w5, Vector512<float> w6, Vector512<float> w7,
        Vector512<float> w8, Vector512<float> w9, Vector512<float> w10, Vector512<float> w11,
        Vector512<float> w12, Vector512<float> w13, Vector512<float> w14, Vector512<float> w15)
    {
        s = Avx512F.FusedMultiplyAdd(Vector512.Create(a[0]), w0, s);
        s = Avx512F.FusedMultiplyAdd(Vector512.Create(a[step]), w1, s);
        s = Avx512F.FusedMultiplyAdd(Vector512.Create(a[2 * step]), w2, s);
        s = Avx512F.FusedMultiplyAdd(Vector512.Create(a[3 * step]), w3, s);
        s = Avx512F.FusedMultiplyAdd(Vector512.Create(a[4 * step]), w4, s);
        s = Avx512F.FusedMultiplyAdd(Vector512.Create(a[5 * step]), w5, s);
        s = Avx512F.FusedMultiplyAdd(Vector512.Create(a[6 * step]), w6, s);
        s = Avx512F.FusedMultiplyAdd(Vector512.Create(a[7 * step]), w7, s);
        s = Avx512F.FusedMultiplyAdd(Vector512.Create(a[8 * step]), w8, s);
        s = Avx512F.FusedMultiplyAdd(Vector512.Create(a[9 * step]), w9, s);
        s = Avx512F.FusedMultiplyAdd(Vector512.Create(a[10 * step]), w10, s);
        s = Avx512F.FusedMultiplyAdd(Vector512.Create(a[11 * step]), w11, s);
        s = Avx512F.FusedMultiplyAdd(Vector512.Create(a[12 * step]), w12, s);
        s = Avx512F.FusedMultiplyAdd(Vector512.Create(a[13 * step]), w13, s);
        s = Avx512F.FusedMultiplyAdd(Vector512.Create(a[14 * step]), w14, s);
        return Avx512F.FusedMultiplyAdd(Vector512.Create(a[15 * step]), w15, s);
    }

    /// <summary>How a panel's element is read: 16 of them at once, as float32.</summary>
    private interface IPanelLoad
    {
        static abstract int Size { get; }
        /// <summary>The 16 elements from <paramref name="element"/> elements past <paramref name="at"/>, widened.</summary>
        static abstract Vector512<float> Load(byte* at, int element);
    }

    private readonly struct Float32Panel : IPanelLoad
    {
        public static int Size => sizeof(float);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load(byte* at, int element) => Vector512.Load((float*)at + element);
    }

    /// <summary>bfloat16 is the upper half of a float32.</summary>
    private readonly struct BFloat16Panel : IPanelLoad
    {
        public static int Size => sizeof(ushort);
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Load(byte* at, int element) =>
            Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.Load((ushort*)at + element)), 16).AsSingle();
    }
}
