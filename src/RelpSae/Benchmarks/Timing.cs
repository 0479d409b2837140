using System.Diagnostics;

namespace RelpSae.Benchmarks;

/// <summary>Median wall time of a workload after warm-up runs.</summary>
public static class Timing
{
    public static double MedianMs(Action work, int warmup, int reps)
    {
        for (int i = 0; i < warmup; i++) work();
        var ms = new double[reps];
        for (int i = 0; i < reps; i++)
        {
            long t0 = Stopwatch.GetTimestamp();
            work();
            ms[i] = Stopwatch.GetElapsedTime(t0).TotalMilliseconds;
        }
        Array.Sort(ms);
        return reps % 2 == 1 ? ms[reps / 2] : 0.5 * (ms[reps / 2 - 1] + ms[reps / 2]);
    }
}
