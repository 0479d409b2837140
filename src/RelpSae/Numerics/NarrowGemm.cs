using System.Runtime.CompilerServices;

namespace RelpSae.Numerics;

/// <summary>
/// Products whose C is at most four vectors wide, with B stored as it is read: attention's pattern·V, dS·K, dSᵀ·Q and
/// patternᵀ·dz at d_head 64. Packing serves each packed value to only the few tiles of so narrow a C, and cost as much
/// as the arithmetic there: packing took a quarter of attention's time at 512 tokens. Here the micro-kernel reads both
/// operands where they lie: A's values broadcast from its stored rows (a transposed A's from its stored columns), B's
/// vectors loaded from its rows. GPT-2's attention at 512 tokens, one layer on one thread, both builds in one process:
/// forward and backward 0.85 of the packed path's time, the forward alone 0.91. Rows left over past the last whole
/// micro-panel take the packed path. The sums are <see cref="GemmDriver"/>'s, in its order: per KC block of the depth
/// from zero, then added to C.
/// </summary>
internal static unsafe class NarrowGemm
{
    private const int MaxVecs = 4;

    /// <summary>Whether this product is one for this path: a plain B, C whole vectors and at most four of them wide, a whole micro-panel of rows.</summary>
    public static bool Handles(in GemmProblem g, int width, int rows) =>
        g.Panels == null && !g.TransB && g.N % width == 0 && g.N <= MaxVecs * width && g.M >= rows;

    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Run<T, O>(in GemmProblem g) where T : struct where O : IKernelOps<T>
    {
        int mr = O.Rows, w = O.Width, vecs = g.N / w, whole = g.M / mr * mr;
        // Four vectors run as two tiles of two: three and one, whose one-vector tile does a broadcast per FMA, took 1.06× as long.
        int tileVecs = vecs == 4 ? 2 : Math.Min(vecs, O.Vecs);
        nint aRow = g.TransA ? 1 : g.Lda, aStep = g.TransA ? g.Lda : 1;
        for (int p0 = 0; p0 < g.K; p0 += GemmDriver.KC)
        {
            int kc = Math.Min(GemmDriver.KC, g.K - p0);
            bool addToC = g.Accumulate || p0 > 0;
            for (int i = 0; i < whole; i += mr)
            {
                float* a = g.AAt(i, p0);
                for (int j = 0; j < g.N; j += tileVecs * w)
                {
                    float* c = g.CAt(i, j);
                    MicroKernel.RunVectors<T, O, StridedA>(Math.Min(tileVecs, (g.N - j) / w), kc, a, g.BAt(p0, j), c, g.Ldc,
                        addToC ? c : null, g.Ldc, null, 0, aRowStride: aRow, aStepStride: aStep, bStride: g.Ldb);
                }
            }
        }
        if (whole < g.M) GemmDriver.Run<T, O>(g.Rows(whole, g.M - whole));
    }
}
