using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;

namespace RelpSae.Numerics;

/// <summary>
/// The register-blocked inner product of GEMM: one MR×NR tile of C from a packed A micro-panel
/// (kc steps of MR values) and a packed B micro-panel (kc steps of NR values). Each step broadcasts
/// MR values of A against Vecs vectors of B into MR·Vecs accumulators that never leave registers.
/// Written for the largest tile (8 rows × 3 vectors); the row/vector tests are JIT-time constants.
/// <typeparamref name="V"/> narrows a ragged last panel to the vectors it has (its stride stays NR).
/// The tile is stored plus an addend when there is one: C itself (accumulating, <c>ldAdd</c> = ldc) or a
/// bias row shared by every row (<c>ldAdd</c> = 0).
/// <c>ahead</c>: cache lines of the next block of B to pull into L2, one per step, so the stream from
/// memory runs evenly beside the arithmetic (a burst per tile stalled the tile's own loads). With A in panels
/// (<see cref="PanelsBroadcast"/>) the lines come in runs of <c>aheadRun</c>, <c>aheadJump</c> bytes apart: the
/// next piece of each panel it reads.
/// <typeparamref name="A"/> says where the A values lie: packed (MR side by side a step), in a packed matrix's
/// panels (<see cref="PanelA"/>: <c>panelLeft</c> steps to the end of the first panel, then <c>panelJump</c> to the next),
/// or where a stored matrix holds them (<see cref="StridedA"/>: rows <c>aRowStride</c> apart, steps <c>aStepStride</c>).
/// B's rows lie <c>bStride</c> apart when it is given (B read where it lies), else NR (packed).
/// </summary>
internal static class MicroKernel
{
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static unsafe void Run<T, O, V, A>(int kc, float* a, float* b, float* c, int ldc, float* add, int ldAdd, byte* ahead, int aheadLines,
        int panelLeft = 0, nint panelJump = 0, nint aRowStride = 0, nint aStepStride = 0, nint bStride = 0, int aheadRun = 0, nint aheadJump = 0)
        where T : struct where O : IKernelOps<T> where V : IVectorCount where A : IAOperand
    {
        int w = O.Width, rows = O.Rows, vecs = Math.Min(O.Vecs, V.Count), stride = O.Vecs * w;
        nint aRow = A.Strided ? aRowStride : A.InPanels ? stride : 1, aStep = A.Strided ? aStepStride : A.InPanels ? 1 : rows;
        nint bStep = bStride != 0 ? bStride : stride;
        T c00 = default, c01 = default, c02 = default, c10 = default, c11 = default, c12 = default;
        T c20 = default, c21 = default, c22 = default, c30 = default, c31 = default, c32 = default;
        T c40 = default, c41 = default, c42 = default, c50 = default, c51 = default, c52 = default;
        T c60 = default, c61 = default, c62 = default, c70 = default, c71 = default, c72 = default;
        int p = 0;
        if (!A.InPanels)
        {
            // Packed or strided A: the steps that pull a line of the next block, then the rest two at a time (one loop test
            // and one pointer update per two steps: both builds in one process, 2 threads, GPT-2's 512×768·768×2304 0.984 of
            // the time, 1 thread 512×768·768×3072 0.980, the 8×128 forward and backward passes 0.994 and 0.993).
            for (int pulled = Math.Min(aheadLines, kc); p < pulled; p++, a += aStep, b += bStep)
            {
                if (Sse.IsSupported) Sse.Prefetch1(ahead + ((nint)p << 6));
                Rank1<T, O>(vecs, a, aRow, b, ref c00, ref c01, ref c02, ref c10, ref c11, ref c12, ref c20, ref c21, ref c22,
                    ref c30, ref c31, ref c32, ref c40, ref c41, ref c42, ref c50, ref c51, ref c52, ref c60, ref c61, ref c62, ref c70, ref c71, ref c72);
            }
            for (; p + 1 < kc; p += 2, a += 2 * aStep, b += 2 * bStep)
            {
                Rank1<T, O>(vecs, a, aRow, b, ref c00, ref c01, ref c02, ref c10, ref c11, ref c12, ref c20, ref c21, ref c22,
                    ref c30, ref c31, ref c32, ref c40, ref c41, ref c42, ref c50, ref c51, ref c52, ref c60, ref c61, ref c62, ref c70, ref c71, ref c72);
                Rank1<T, O>(vecs, a + aStep, aRow, b + bStep, ref c00, ref c01, ref c02, ref c10, ref c11, ref c12, ref c20, ref c21, ref c22,
                    ref c30, ref c31, ref c32, ref c40, ref c41, ref c42, ref c50, ref c51, ref c52, ref c60, ref c61, ref c62, ref c70, ref c71, ref c72);
            }
        }
        // A in panels (or a packed tile's last step): a jump at each panel's end, the lines to pull in runs.
        for (int runLeft = aheadRun; p < kc; p++, a += aStep, b += bStep)
        {
            if (p < aheadLines && Sse.IsSupported)
            {
                Sse.Prefetch1(ahead);
                ahead += 64;
                if (--runLeft == 0) { ahead += aheadJump; runLeft = aheadRun; }
            }
            Rank1<T, O>(vecs, a, aRow, b, ref c00, ref c01, ref c02, ref c10, ref c11, ref c12, ref c20, ref c21, ref c22,
                ref c30, ref c31, ref c32, ref c40, ref c41, ref c42, ref c50, ref c51, ref c52, ref c60, ref c61, ref c62, ref c70, ref c71, ref c72);
            if (A.InPanels && --panelLeft == 0)
            {
                a += panelJump;
                panelLeft = stride;
            }
        }
        Write<T, O>(vecs, c, add == null ? null : add, c00, c01, c02);
        if (rows > 1) Write<T, O>(vecs, c + ldc, add == null ? null : add + ldAdd, c10, c11, c12);
        if (rows > 2) Write<T, O>(vecs, c + 2 * ldc, add == null ? null : add + 2 * ldAdd, c20, c21, c22);
        if (rows > 3) Write<T, O>(vecs, c + 3 * ldc, add == null ? null : add + 3 * ldAdd, c30, c31, c32);
        if (rows > 4) Write<T, O>(vecs, c + 4 * ldc, add == null ? null : add + 4 * ldAdd, c40, c41, c42);
        if (rows > 5) Write<T, O>(vecs, c + 5 * ldc, add == null ? null : add + 5 * ldAdd, c50, c51, c52);
        if (rows > 6) Write<T, O>(vecs, c + 6 * ldc, add == null ? null : add + 6 * ldAdd, c60, c61, c62);
        if (rows > 7) Write<T, O>(vecs, c + 7 * ldc, add == null ? null : add + 7 * ldAdd, c70, c71, c72);
    }

    /// <summary>One step: the tile's accumulators += A's column of the step (MR values, <paramref name="aRow"/> apart) times B's row.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Rank1<T, O>(int vecs, float* a, nint aRow, float* b, ref T c00, ref T c01, ref T c02, ref T c10, ref T c11, ref T c12,
        ref T c20, ref T c21, ref T c22, ref T c30, ref T c31, ref T c32, ref T c40, ref T c41, ref T c42, ref T c50, ref T c51, ref T c52,
        ref T c60, ref T c61, ref T c62, ref T c70, ref T c71, ref T c72) where T : struct where O : IKernelOps<T>
    {
        int w = O.Width, rows = O.Rows;
        T b0 = O.Load(b);
        T b1 = vecs > 1 ? O.Load(b + w) : default;
        T b2 = vecs > 2 ? O.Load(b + 2 * w) : default;
        Step<T, O>(vecs, a[0], b0, b1, b2, ref c00, ref c01, ref c02);
        if (rows > 1) Step<T, O>(vecs, a[1 * aRow], b0, b1, b2, ref c10, ref c11, ref c12);
        if (rows > 2) Step<T, O>(vecs, a[2 * aRow], b0, b1, b2, ref c20, ref c21, ref c22);
        if (rows > 3) Step<T, O>(vecs, a[3 * aRow], b0, b1, b2, ref c30, ref c31, ref c32);
        if (rows > 4) Step<T, O>(vecs, a[4 * aRow], b0, b1, b2, ref c40, ref c41, ref c42);
        if (rows > 5) Step<T, O>(vecs, a[5 * aRow], b0, b1, b2, ref c50, ref c51, ref c52);
        if (rows > 6) Step<T, O>(vecs, a[6 * aRow], b0, b1, b2, ref c60, ref c61, ref c62);
        if (rows > 7) Step<T, O>(vecs, a[7 * aRow], b0, b1, b2, ref c70, ref c71, ref c72);
    }

    /// <summary>The tile for the first <paramref name="vecs"/> vectors of a panel (a ragged last panel computes only those it has).</summary>
    public static unsafe void RunVectors<T, O, A>(int vecs, int kc, float* a, float* b, float* c, int ldc, float* add, int ldAdd,
        byte* ahead, int aheadLines, int panelLeft = 0, nint panelJump = 0, nint aRowStride = 0, nint aStepStride = 0, nint bStride = 0,
        int aheadRun = 0, nint aheadJump = 0)
        where T : struct where O : IKernelOps<T> where A : IAOperand
    {
        if (vecs == 1 && O.Vecs > 1) Run<T, O, OneVector, A>(kc, a, b, c, ldc, add, ldAdd, ahead, aheadLines, panelLeft, panelJump, aRowStride, aStepStride, bStride, aheadRun, aheadJump);
        else if (vecs == 2 && O.Vecs > 2) Run<T, O, TwoVectors, A>(kc, a, b, c, ldc, add, ldAdd, ahead, aheadLines, panelLeft, panelJump, aRowStride, aStepStride, bStride, aheadRun, aheadJump);
        else Run<T, O, AllVectors, A>(kc, a, b, c, ldc, add, ldAdd, ahead, aheadLines, panelLeft, panelJump, aRowStride, aStepStride, bStride, aheadRun, aheadJump);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Step<T, O>(int vecs, float a, T b0, T b1, T b2, ref T c0, ref T c1, ref T c2)
        where T : struct where O : IKernelOps<T>
    {
        T x = O.Splat(a);
        c0 = O.MulAdd(x, b0, c0);
        if (vecs > 1) c1 = O.MulAdd(x, b1, c1);
        if (vecs > 2) c2 = O.MulAdd(x, b2, c2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Write<T, O>(int vecs, float* c, float* add, T v0, T v1, T v2)
        where T : struct where O : IKernelOps<T>
    {
        int w = O.Width;
        if (add != null)
        {
            v0 = O.Add(v0, O.Load(add));
            if (vecs > 1) v1 = O.Add(v1, O.Load(add + w));
            if (vecs > 2) v2 = O.Add(v2, O.Load(add + 2 * w));
        }
        O.Store(c, v0);
        if (vecs > 1) O.Store(c + w, v1);
        if (vecs > 2) O.Store(c + 2 * w, v2);
    }
}

/// <summary>Where the kernel's A values lie (a JIT-time constant).</summary>
internal interface IAOperand
{
    /// <summary>In a packed matrix's panels: a row's values one apart, rows a panel's width apart.</summary>
    static abstract bool InPanels { get; }
    /// <summary>In a stored matrix, at the strides the caller gives.</summary>
    static abstract bool Strided { get; }
}

/// <summary>Packed for the kernel: a step's MR values side by side.</summary>
internal readonly struct PackedA : IAOperand { public static bool InPanels => false; public static bool Strided => false; }

/// <summary>Read from a packed matrix's panels where they lie (<see cref="PanelsBroadcast"/>).</summary>
internal readonly struct PanelA : IAOperand { public static bool InPanels => true; public static bool Strided => false; }

/// <summary>Read from a stored matrix where it lies (<see cref="NarrowGemm"/>).</summary>
internal readonly struct StridedA : IAOperand { public static bool InPanels => false; public static bool Strided => true; }

/// <summary>How many of a panel's vectors a kernel instance computes (a JIT-time constant).</summary>
internal interface IVectorCount
{
    static abstract int Count { get; }
}

internal readonly struct AllVectors : IVectorCount { public static int Count => int.MaxValue; }
internal readonly struct OneVector : IVectorCount { public static int Count => 1; }
internal readonly struct TwoVectors : IVectorCount { public static int Count => 2; }
