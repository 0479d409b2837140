using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RelpSae.Numerics;

/// <summary>
/// C (+)= op(A)·Pᵀ with P packed (a backward's dy·Wᵀ), computed as Cᵀ = P·op(A)ᵀ: P's panels are then the micro-kernel's
/// broadcast operand, read where they lie (a row's values side by side, its rows a panel's width apart), and op(A)ᵀ is
/// packed as the kernel's B. The tiled path instead transposes every block of P into a buffer on every call, a pass over
/// the whole weight; this one moves op(A) and C (into Cᵀ and back), less work while A has fewer rows than P has columns.
/// 16-bit panels are widened eight rows at a time into a piece that stays in L1, with no transposition.
/// The sums are the tiled path's, in its order: per KC block of the depth from zero, then added to C.
/// </summary>
internal static unsafe class PanelsBroadcast
{
    private const int Mr = 8, Width = 16, Nr = 3 * Width, Kc = GemmDriver.KC;

    /// <summary>Rows of A up to which op(A)ᵀ's block (KC × rows) stays in L2 beside Cᵀ's band.</summary>
    internal const int MaxRows = 512;

    /// <summary>Floats of op(A)ᵀ packed at once (16 MB), every block of its depth.</summary>
    private const long PackedFloats = 4L << 20;

    /// <summary>
    /// Whether this product is one for this path: panels cut for the 512-bit kernel, P's rows in whole groups of
    /// eight, more rows than the few-row path takes, and a depth at least four times the rows (eight times when C is
    /// accumulated into, which moves C twice). Against the tiled path on GPT-2's four maps (results/bench/panels-broadcast):
    /// 32–128 rows took 12–27 % less time on 2 threads and 5–31 % less on 1; 256–512 rows at a depth of 2304 or 3072
    /// 0–13 % less on 2 threads and 0–5 % on 1; 256–512 rows at a depth of 768 no less (0.93–1.06), so they stay tiled.
    /// On Gemma-2-2B's maps in bfloat16: 17–26 % less at 32 rows, 3–11 % at 128.
    /// </summary>
    public static bool Handles(in GemmProblem g) =>
        g.PanelsTransposed && Avx512F.IsSupported
        && g.M > PanelRowsTransposed.MaxRows && g.M <= MaxRows && 4 * g.M * (g.Accumulate ? 2 : 1) <= g.K
        && (long)g.K * RoundUp(g.M, Nr) <= PackedFloats && g.N % Mr == 0 && g.PanelCol0 % Mr == 0;

    /// <summary>Floats of Cᵀ computed at once (384 KB): with op(A)ᵀ's block beside it, within the 1 MB L2.</summary>
    private const int CtFloats = 96 * 1024;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run(in GemmProblem g)
    {
        // This problem's columns [0, N) are P's rows [first, first + N): Cᵀ's rows, eight at a time within P's KC-row blocks,
        // a band of them at a time so that Cᵀ's band stays in L2 while every block of the depth is added to it. op(A)ᵀ is
        // packed once, every block of its depth, for all the bands to read.
        int ldt = RoundUp(g.M, Width), mp = RoundUp(g.M, Nr), band = Math.Min(g.N, Math.Max(Mr, CtFloats / ldt / Mr * Mr));
        var buffers = PackBuffers.ForThisThread;
        float* ct = buffers.A(band * ldt), bp = buffers.B(g.K * mp);
        float* widened = g.Element == PanelElement.Float32 ? null : buffers.Scratch(MaxPanels * Mr * Nr);
        for (int p0 = 0; p0 < g.K; p0 += Kc)
            Packing.PackB(g.AAt(0, p0), g.Lda, !g.TransA, Math.Min(Kc, g.K - p0), g.M, Nr, bp + (nint)p0 * mp);
        for (int q0 = 0; q0 < g.N; q0 += band)
        {
            int rows = Math.Min(band, g.N - q0);
            float* c = g.CAt(0, q0);
            if (g.Accumulate) Packing.TransposeInto(c, g.Ldc, g.M, rows, ct, ldt);
            for (int p0 = 0; p0 < g.K; p0 += Kc)
                Band(g, g.PanelCol0 + q0, rows, p0, Math.Min(Kc, g.K - p0), bp + (nint)p0 * mp, ct, ldt, add: g.Accumulate || p0 > 0, widened);
            Packing.TransposeInto(ct, ldt, rows, g.M, c, g.Ldc);
        }
    }

    /// <summary>Panels a KC block of the depth touches at most: 256 steps from anywhere inside a panel of 48.</summary>
    private const int MaxPanels = (Nr - 1 + Kc + Nr - 1) / Nr;

    /// <summary>
    /// Cᵀ's rows for P's rows [first, first + rows) (+)= their block of P at depth p0 times op(A)ᵀ's block packed in bp;
    /// 16-bit panels widened into <paramref name="widened"/> (null for float32, read where they lie).
    /// The next eight rows' piece of every panel is pulled into L2 while this one is multiplied, a line per kernel step,
    /// each tile a share of the panels. A piece is 24 lines in a row per panel, the panels 48 KB apart: the hardware
    /// prefetcher does not follow that, and where the rows are few (one column tile) nothing else hid the wait on memory.
    /// Pulled all at once before the tiles instead, on a Xeon (Emerald Rapids), 12 layers of GPT-2's weights streamed from
    /// memory, 2 threads: 1.31× the time at 32 rows, 1.20× at 64, 1.11× at 128, 1.03× at 256 (1 thread: 1.33×, 1.14× at
    /// 128). Every other line only (the pair brought by the adjacent-line prefetcher): 1.48× at 32 rows.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void Band(in GemmProblem g, int first, int rows, int p0, int kc, float* bp, float* ct, int ldt, bool add, float* widened)
    {
        int size = g.Element.Size(), into = p0 % Nr, panels = (into + kc + Nr - 1) / Nr;
        int tiles = (g.M + Nr - 1) / Nr, run = Mr * Nr * size / 64;
        for (int q = 0; q < rows; q += Mr)
        {
            byte* piece = Piece(g, first + q, p0, into, size, out int kcP);
            byte* next = null;
            nint nextPanel = 0;
            if (q + Mr < rows)
            {
                next = Piece(g, first + q + Mr, p0, into, size, out int nextKcP);
                nextPanel = (nint)Nr * nextKcP * size;
            }
            float* a = (float*)piece + into;
            nint jump = (nint)Nr * kcP - Nr;
            if (widened != null)
            {
                // The eight rows lie side by side in each panel: widened a panel's piece after another, they read the same way.
                for (int t = 0; t < panels; t++)
                    PanelElements.Widen(g.Element, piece + (nint)t * Nr * kcP * size, Mr * Nr, widened + t * Mr * Nr);
                a = widened + into;
                jump = (nint)Nr * Mr - Nr;
            }
            for (int j = 0, tile = 0; j < g.M; j += Nr, tile++)
            {
                float* c = ct + (nint)q * ldt + j;
                int from = panels * tile / tiles, to = panels * (tile + 1) / tiles;
                MicroKernel.RunVectors<Vector512<float>, Vector512Ops, PanelA>((Math.Min(Nr, g.M - j) + Width - 1) / Width,
                    kc, a, bp + (nint)j * kc, c, ldt, add ? c : null, ldt, next + from * nextPanel, next == null ? 0 : (to - from) * run,
                    Nr - into, jump, aheadRun: run, aheadJump: nextPanel - run * 64);
            }
        }
    }

    /// <summary>
    /// Where P's rows [row, row + 8) start at depth p0: <paramref name="into"/> steps into panel p0 / Nr of the KC-row
    /// block at b0; the next panel is <paramref name="kcP"/> rows of Nr further on.
    /// </summary>
    private static byte* Piece(in GemmProblem g, int row, int p0, int into, int size, out int kcP)
    {
        int b0 = row / Kc * Kc;
        kcP = Math.Min(Kc, g.PanelRows - b0);
        return g.Panels + ((nint)b0 * g.PanelCols + (nint)(p0 - into) * kcP + (nint)(row - b0) * Nr) * size;
    }

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;
}
