using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RelpSae.Numerics;

/// <summary>
/// Products of one or two rows with a packed B read as it lies (an output head's logit row, the last block's
/// metric rows): each panel's elements are widened in registers as the FMAs use them, instead of widening the
/// block into a buffer and running the 8-row micro-kernel on a mostly empty tile. Such a product streams its
/// weights once from memory and does little with them, so the widening pass and the 8-row tile's FMAs had
/// kept it at a third to a half of the memory's read rate. The sums are those of <see cref="GemmDriver"/>,
/// in the same order: per KC block, from zero over the block's depth, then the addend.
/// </summary>
internal static unsafe class PanelRows
{
    /// <summary>The rows a pass runs alone (a logit's, a metric's); more stay tiled, where the crossover lies unmeasured.</summary>
    internal const int MaxRows = 2;

    private const int Width = 16, Nr = 3 * Width;

    /// <summary>
    /// Bytes ahead of the step at which each step pulls its weights' lines into L2. The weights stream once, in order,
    /// and a step does little with each line, so the core's own look-ahead kept few lines in flight. Gemma-2-2B's head
    /// (2304 × 256000) at one row on a Xeon (Emerald Rapids): bfloat16 128 → 83 ms on 1 thread (1.48 → 0.97× the
    /// weights' bytes at the read bandwidth) and 64 → 43 ms on 2; float32 176 → 152 and 92 → 78.5 ms. 2 KB ahead: 96 ms
    /// in bfloat16; 8 KB: 84.
    /// </summary>
    internal const int Ahead = 4096;

    /// <summary>Whether this product is one for this path: few rows, float32 or bfloat16 panels cut for the 512-bit kernel.</summary>
    public static bool Handles(in GemmProblem g) =>
        g.ReadsPanels && g.M <= MaxRows && Avx512F.IsSupported && g.Element is PanelElement.Float32 or PanelElement.BFloat16;

    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    public static void Run(in GemmProblem g)
    {
        float* edge = stackalloc float[Nr];
        int aStep = g.TransA ? g.Lda : 1;
        for (int p0 = 0; p0 < g.K; p0 += GemmDriver.KC)
        {
            int kc = Math.Min(GemmDriver.KC, g.K - p0);
            bool addToC = g.Accumulate || p0 > 0;
            for (int j = 0; j < g.N; j += Nr)
            {
                byte* panel = g.PanelBlock(p0, kc, j);
                int cols = Math.Min(Nr, g.N - j);
                for (int r = 0; r < g.M; r++)
                {
                    float* a = g.AAt(r, p0);
                    var (s0, s1, s2) = g.Element == PanelElement.BFloat16 ? Sums16(kc, a, aStep, (ushort*)panel) : Sums32(kc, a, aStep, (float*)panel);
                    float* c = g.CAt(r, j);
                    float* add = addToC ? c : g.Bias == null ? null : g.Bias + j;
                    if (cols == Nr)
                    {
                        Store(c, add, s0, s1, s2);
                        continue;
                    }
                    // A ragged last panel: its padding lanes are zeros, summed and dropped.
                    s0.Store(edge);
                    s1.Store(edge + Width);
                    s2.Store(edge + 2 * Width);
                    for (int q = 0; q < cols; q++) c[q] = add == null ? edge[q] : edge[q] + add[q];
                }
            }
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Store(float* c, float* add, Vector512<float> s0, Vector512<float> s1, Vector512<float> s2)
    {
        if (add != null)
        {
            s0 += Vector512.Load(add);
            s1 += Vector512.Load(add + Width);
            s2 += Vector512.Load(add + 2 * Width);
        }
        s0.Store(c);
        s1.Store(c + Width);
        s2.Store(c + 2 * Width);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float>, Vector512<float>, Vector512<float>) Sums32(int kc, float* a, int aStep, float* b)
    {
        Vector512<float> s0 = default, s1 = default, s2 = default;
        for (int p = 0; p < kc; p++, a += aStep, b += Nr)
        {
            PullLines((byte*)b + Ahead, 3);   // the step's 192 bytes
            var x = Vector512.Create(*a);
            s0 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b), s0);
            s1 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b + Width), s1);
            s2 = Avx512F.FusedMultiplyAdd(x, Vector512.Load(b + 2 * Width), s2);
        }
        return (s0, s1, s2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static (Vector512<float>, Vector512<float>, Vector512<float>) Sums16(int kc, float* a, int aStep, ushort* b)
    {
        Vector512<float> s0 = default, s1 = default, s2 = default;
        for (int p = 0; p < kc; p++, a += aStep, b += Nr)
        {
            PullLines((byte*)b + Ahead, 2);   // the step's 96 bytes (with the next step's, the lines they span)
            var x = Vector512.Create(*a);
            s0 = Avx512F.FusedMultiplyAdd(x, Widen(b), s0);
            s1 = Avx512F.FusedMultiplyAdd(x, Widen(b + Width), s1);
            s2 = Avx512F.FusedMultiplyAdd(x, Widen(b + 2 * Width), s2);
        }
        return (s0, s1, s2);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void PullLines(byte* at, int lines)
    {
        for (int l = 0; l < lines; l++) Sse.Prefetch1(at + l * 64);
    }

    /// <summary>16 bfloat16 values as float32: each the upper half of its float.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Widen(ushort* src) =>
        Avx512F.ShiftLeftLogical(Avx512F.ConvertToVector512UInt32(Vector256.Load(src)), 16).AsSingle();
}
