using System.Diagnostics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RelpSae.Numerics;

/// <summary>
/// The machine's practical float32 ceiling: fused multiply-adds on the widest accelerated vectors,
/// with enough independent accumulators to hide FMA latency, nothing read from memory. GEMM
/// efficiency is quoted against this figure.
/// </summary>
public static class FmaPeak
{
    private const int Accumulators = 12;   // ≥ latency (4) × FMA ports (2), with margin
    private const long Chunk = 1 << 16;    // iterations between clock checks

    /// <summary>
    /// GFLOP/s (2 per multiply-add per lane) of <paramref name="threads"/> threads running FMAs: the fastest of
    /// <paramref name="trials"/> windows that together last <paramref name="duration"/>. The fastest, not the mean: a
    /// virtual machine's host can only take time away (a vCPU lent elsewhere), never add FMAs, so the fastest window is
    /// the nearest to what the cores can do. One 1 s window on a 2-core VM once measured 117 GFLOP/s on 2 threads, the
    /// 1-thread rate, two minutes after 231, and every 2-thread row of that sitting came out at 1.5–1.7× "the peak".
    /// </summary>
    public static double MeasureGflops(int threads, TimeSpan duration, int trials = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(trials, 1);
        var path = GemmPaths.Fastest;
        int lanes = path switch
        {
            GemmPath.Vector512 => Vector512<float>.Count,
            GemmPath.Vector256 => Vector256<float>.Count,
            _ => 1,
        };
        Spin(path, Chunk);   // compile before timing
        double best = 0;
        for (int trial = 0; trial < trials; trial++)
            best = Math.Max(best, Window(path, threads, duration / trials) * (double)Accumulators * lanes * 2 / 1e9);
        return best;
    }

    /// <summary>Iterations a second of <paramref name="threads"/> threads spinning for <paramref name="duration"/> each.</summary>
    private static double Window(GemmPath path, int threads, TimeSpan duration)
    {
        long[] iterations = new long[threads];
        using var start = new Barrier(threads + 1);
        var workers = Enumerable.Range(0, threads).Select(t => new Thread(() =>
        {
            start.SignalAndWait();
            var clock = Stopwatch.StartNew();
            long done = 0;
            while (clock.Elapsed < duration) { Spin(path, Chunk); done += Chunk; }
            iterations[t] = done;
        }) { IsBackground = true }).ToArray();
        foreach (var w in workers) w.Start();
        start.SignalAndWait();
        var wall = Stopwatch.StartNew();
        foreach (var w in workers) w.Join();
        return iterations.Sum() / wall.Elapsed.TotalSeconds;
    }

    private static float Spin(GemmPath path, long iterations) => path switch
    {
        GemmPath.Vector512 => Spin<Vector512<float>, Vector512Ops>(iterations),
        GemmPath.Vector256 => Spin<Vector256<float>, Vector256Ops>(iterations),
        _ => Spin<float, ScalarOps>(iterations),
    };

    [MethodImpl(MethodImplOptions.NoInlining | MethodImplOptions.AggressiveOptimization)]
    private static unsafe float Spin<T, O>(long iterations) where T : struct where O : IKernelOps<T>
    {
        // x·0.999 + 0.001 converges to 1: the values stay finite however long it runs.
        T x = O.Splat(0.999f), y = O.Splat(0.001f);
        T a0 = O.Splat(0), a1 = O.Splat(1), a2 = O.Splat(2), a3 = O.Splat(3), a4 = O.Splat(4), a5 = O.Splat(5);
        T a6 = O.Splat(6), a7 = O.Splat(7), a8 = O.Splat(8), a9 = O.Splat(9), a10 = O.Splat(10), a11 = O.Splat(11);
        for (long i = 0; i < iterations; i++)
        {
            a0 = O.MulAdd(a0, x, y); a1 = O.MulAdd(a1, x, y); a2 = O.MulAdd(a2, x, y); a3 = O.MulAdd(a3, x, y);
            a4 = O.MulAdd(a4, x, y); a5 = O.MulAdd(a5, x, y); a6 = O.MulAdd(a6, x, y); a7 = O.MulAdd(a7, x, y);
            a8 = O.MulAdd(a8, x, y); a9 = O.MulAdd(a9, x, y); a10 = O.MulAdd(a10, x, y); a11 = O.MulAdd(a11, x, y);
        }
        T sum = O.Add(O.Add(O.Add(a0, a1), O.Add(a2, a3)), O.Add(O.Add(a4, a5), O.Add(a6, a7)));
        sum = O.Add(sum, O.Add(O.Add(a8, a9), O.Add(a10, a11)));
        float* lanes = stackalloc float[O.Width];
        O.Store(lanes, sum);
        return lanes[0];
    }
}
