using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace RelpSae.Numerics;

/// <summary>
/// The cache-blocked loops around the micro-kernel (the GotoBLAS/BLIS scheme, with the roles of A and
/// B mirrored because our vectors run along rows of C): for each block of MC rows of A and KC of the
/// shared dimension, pack A once; for each block of NC columns of B, pack B (kept in L2); then sweep
/// MR-row panels of A (kept in L1) across NR-column panels of B. Single-threaded; see Gemm for threads.
/// </summary>
internal static unsafe class GemmDriver
{
    // Block sizes tuned on a 2-core AMD EPYC (Zen 5: 48 KB L1d, 1 MB L2 per core) at 1024³ and GPT-2 shapes.

    /// <summary>
    /// Rows of A packed at once (a multiple of every MR: 8, 6, 4). Each MR-row panel of A meets the
    /// L2-resident B block once, so the A block need not fit a cache: MC only bounds the buffer, and
    /// a large one packs B once per product (at 960, a 1024-row product packed all of B twice).
    /// </summary>
    internal const int MC = 4080;
    /// <summary>Depth of one packed block: an 8×KC A panel (8 KB) sits in the 48 KB L1.</summary>
    internal const int KC = 256;
    /// <summary>
    /// Columns of B packed at once (a multiple of every NR: 48, 16, 3): KC×NC is 240 KB, so the block in use and the
    /// next one, pulled in while it is used (<see cref="BlockPrefetch"/>), both stay in the 1 MB L2. At 720 (720 KB)
    /// the block pulled in pushed out the one in use. Both builds in one process, 2 threads, against 720: GPT-2's head
    /// 512×768·768×50257 0.958 of the time, its K = 768 maps 0.978–0.979 (K = 3072 1.003); Gemma-2-2B's maps in bfloat16
    /// (the widened block is the same 240 KB) 0.85–0.97 at 16–128 rows; GPT-2 passes 0.975–0.990. 192 and 144 were no faster.
    /// </summary>
    internal const int NC = 240;

    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]  // the edge tile is written before it is read
    public static void Run<T, O>(in GemmProblem g) where T : struct where O : IKernelOps<T>
    {
        int mr = O.Rows, nr = O.Vecs * O.Width;
        var buffers = PackBuffers.ForThisThread;
        float* ap = buffers.A(RoundUp(Math.Min(MC, g.M), mr) * Math.Min(KC, g.K));
        int ncStep = ColumnBlock(g.M, g.N, nr);
        // Panels read as they lie need no buffer when they hold float32; every other B is packed or widened into one.
        bool direct = g.ReadsPanels && g.Element == PanelElement.Float32;
        float* bBuffer = direct ? null : buffers.B(ncStep * Math.Min(KC, g.K));
        float* scratch = g.PanelsTransposed && g.Element != PanelElement.Float32 ? buffers.Scratch(KC * nr) : null;
        float* edge = stackalloc float[8 * 48];
        for (int i0 = 0; i0 < g.M; i0 += MC)
        {
            int mc = Math.Min(MC, g.M - i0);
            for (int p0 = 0; p0 < g.K; p0 += KC)
            {
                int kc = Math.Min(KC, g.K - p0);
                // The first block stores its sums plus the bias (when there is one); later ones add to C.
                bool addToC = g.Accumulate || p0 > 0;
                Packing.PackA(g.AAt(i0, p0), g.Lda, g.TransA, mc, kc, mr, ap);
                for (int j0 = 0; j0 < g.N; j0 += ncStep)
                {
                    int nc = Math.Min(ncStep, g.N - j0);
                    var ahead = default(BlockPrefetch);
                    float* bp = bBuffer;
                    if (g.Panels == null) Packing.PackB(g.BAt(p0, j0), g.Ldb, g.TransB, kc, nc, nr, bp);
                    else if (g.PanelsTransposed) PanelTranspose.Pack(g, p0, kc, j0, nc, nr, bp, scratch);
                    else
                    {
                        byte* block = g.PanelBlock(p0, kc, j0);
                        if (direct) bp = (float*)block;
                        else PanelElements.Widen(g.Element, block, kc * RoundUp(nc, nr), bp);
                        ahead = BlockPrefetch.Next(g, p0, j0, ncStep, nr, (mc + mr - 1) / mr * ((nc + nr - 1) / nr));
                    }
                    for (int i = 0; i < mc; i += mr)
                    {
                        int rows = Math.Min(mr, mc - i);
                        for (int j = 0; j < nc; j += nr)
                        {
                            int cols = Math.Min(nr, nc - j);
                            byte* pf = ahead.Take(kc, out int pfLines);
                            float* c = g.CAt(i0 + i, j0 + j);
                            float* add = addToC ? c : g.Bias == null ? null : g.Bias + j0 + j;
                            int ldAdd = addToC ? g.Ldc : 0;
                            if (rows == mr && cols == nr)
                                MicroKernel.Run<T, O, AllVectors, PackedA>(kc, ap + i * kc, bp + j * kc, c, g.Ldc, add, ldAdd, pf, pfLines);
                            else
                                Edge<T, O>(kc, ap + i * kc, bp + j * kc, c, g.Ldc, rows, cols, add, ldAdd, edge, pf, pfLines);
                        }
                    }
                }
            }
        }
    }

    /// <summary>
    /// Pulls the next block of a packed B into L2 a slice per micro-tile while this block is computed:
    /// packed panels come from memory (the unembedding's 154 MB, each layer's weights once per pass), and
    /// the first sweep over each block otherwise waits on it.
    /// </summary>
    private struct BlockPrefetch
    {
        private byte* next;
        private long lines;
        private int perStep;

        public static BlockPrefetch Next(in GemmProblem g, int p0, int j0, int ncStep, int nr, int steps)
        {
            int np0 = p0, nj0 = j0 + ncStep;
            if (nj0 >= g.N) { np0 += KC; nj0 = 0; }
            if (np0 >= g.K) return default;
            int kc = Math.Min(KC, g.K - np0), nc = RoundUp(Math.Min(ncStep, g.N - nj0), nr);
            long lines = (long)kc * nc * g.Element.Size() / 64;
            return new BlockPrefetch { next = g.PanelBlock(np0, kc, nj0), lines = lines, perStep = (int)((lines + steps - 1) / steps) };
        }

        /// <summary>
        /// This tile's share of the lines, for the kernel to pull one per step. A share larger than the
        /// kernel's steps (a block of few rows, bound by memory) is pulled here at once instead.
        /// </summary>
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public byte* Take(int kc, out int count)
        {
            count = (int)Math.Min(perStep, lines);
            byte* at = next;
            lines -= count;
            next += (nint)count * 64;
            if (count <= kc) return at;
            if (Sse.IsSupported)
                for (int q = 0; q < count; q++) Sse.Prefetch1(at + (nint)q * 64);
            count = 0;
            return null;
        }
    }

    /// <summary>
    /// A ragged tile: only the vectors its columns reach are computed (a 16-column edge of a 48-wide
    /// panel costs a third of a tile); straight into C when whole vectors and rows fit, else into a
    /// tile aside of which the part that exists is kept (plus its addend, as the kernel would add it).
    /// </summary>
    private static void Edge<T, O>(int kc, float* a, float* b, float* c, int ldc, int rows, int cols, float* add, int ldAdd, float* tile,
        byte* ahead, int aheadLines) where T : struct where O : IKernelOps<T>
    {
        int w = O.Width, vecs = (cols + w - 1) / w, nr = O.Vecs * w;
        bool direct = rows == O.Rows && cols == vecs * w;
        float* dst = direct ? c : tile;
        int ld = direct ? ldc : nr;
        float* kernelAdd = direct ? add : null;
        MicroKernel.RunVectors<T, O, PackedA>(vecs, kc, a, b, dst, ld, kernelAdd, ldAdd, ahead, aheadLines);
        if (!direct) WriteEdge(tile, nr, c, ldc, rows, cols, add, ldAdd);
    }

    private static void WriteEdge(float* tile, int nr, float* c, int ldc, int rows, int cols, float* add, int ldAdd)
    {
        for (int r = 0; r < rows; r++, tile += nr, c += ldc)
            for (int q = 0; q < cols; q++)
                c[q] = add == null ? tile[q] : tile[q] + add[(nint)r * ldAdd + q];
    }

    /// <summary>
    /// Columns per block: at most NC, the blocks as even as whole panels allow (768 columns: 4 × 192,
    /// not 3 × 240 + 48, whose narrow block would stream all of A again for one panel's work). Products of
    /// fewer than <see cref="FewRows"/> rows wait on B's stream from memory, not on arithmetic: they keep
    /// NC-wide blocks, which measured 3–8 % faster there (forwards of 8 and 16 tokens, with NC 720).
    /// </summary>
    internal static int ColumnBlock(int m, int n, int nr)
    {
        if (m < FewRows) return Math.Min(NC, RoundUp(n, nr));
        int blocks = (n + NC - 1) / NC;
        return RoundUp((n + blocks - 1) / blocks, nr);
    }

    /// <summary>Three 8-row micro-panels: below this a block's kernel steps cannot pull the next block in time.</summary>
    internal const int FewRows = 24;

    private static int RoundUp(int x, int multiple) => (x + multiple - 1) / multiple * multiple;
}
