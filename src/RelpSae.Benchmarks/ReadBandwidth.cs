using System.Diagnostics;
using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics.X86;
using RelpSae.Numerics;

namespace RelpSae.Benchmarks;

/// <summary>
/// The machine's practical memory read rate: threads summing disjoint slices of a buffer far larger than the
/// caches with vector loads (each thread's sum is stored, so the loads cannot be dropped). The floor of a pass that
/// must stream its weights from memory is their bytes over this rate, measured in the same sitting.
/// </summary>
public static class ReadBandwidth
{
    /// <summary>1 GiB: hundreds of times the last-level cache a core of the project's machines sees.</summary>
    public const long DefaultBytes = 1L << 30;

    /// <summary>GB/s (10⁹ bytes a second) of the fastest of <paramref name="runs"/> sweeps over <paramref name="bytes"/> on <paramref name="threads"/> threads.</summary>
    public static double MeasureGBps(int threads, long bytes = DefaultBytes, int runs = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(runs, 1);
        int vector = Vector<float>.Count;
        long floats = Math.Max(bytes / sizeof(float) / (vector * threads) * vector * threads, vector * threads);
        // Written once so that every page is mapped before the first sweep is timed.
        var buffer = GC.AllocateUninitializedArray<float>(checked((int)floats));
        buffer.AsSpan().Fill(1f);
        long slice = floats / threads;
        double best = double.PositiveInfinity;
        for (int r = 0; r < runs; r++)
        {
            var sums = new float[threads];
            using var start = new Barrier(threads + 1);
            var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
            {
                start.SignalAndWait();
                sums[t] = Sum(buffer, t * slice, slice);
            }) { IsBackground = true }).ToArray();
            foreach (var w in workers) w.Start();
            start.SignalAndWait();
            long t0 = Stopwatch.GetTimestamp();
            foreach (var w in workers) w.Join();
            best = Math.Min(best, Stopwatch.GetElapsedTime(t0).TotalSeconds);
        }
        return floats * sizeof(float) / best / 1e9;
    }

    /// <summary>
    /// The floats [<paramref name="first"/>, first + count) summed, four vectors a step (count a multiple of the vector
    /// width), each step pulling the lines <see cref="PanelRows.Ahead"/> bytes ahead into L2, as the one-row products do: on a
    /// Xeon (Emerald Rapids) the sweep read 14.6–14.7 GB/s on one thread with them, 13.3–13.9 without.
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe float Sum(float[] buffer, long first, long count)
    {
        int w = Vector<float>.Count, stepBytes = 4 * w * sizeof(float);
        Vector<float> s0 = default, s1 = default, s2 = default, s3 = default;
        fixed (float* start = buffer)
        {
            float* at = start + first;
            long i = 0;
            for (; i + 4 * w <= count; i += 4 * w)
            {
                if (Sse.IsSupported)
                    for (int line = 0; line < stepBytes; line += 64) Sse.Prefetch1((byte*)(at + i) + PanelRows.Ahead + line);
                s0 += Vector.Load(at + i);
                s1 += Vector.Load(at + i + w);
                s2 += Vector.Load(at + i + 2 * w);
                s3 += Vector.Load(at + i + 3 * w);
            }
            for (; i < count; i += w) s0 += Vector.Load(at + i);
        }
        return Vector.Sum(s0 + s1 + s2 + s3);
    }
}
