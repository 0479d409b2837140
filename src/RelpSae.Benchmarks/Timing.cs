using System.Diagnostics;

namespace RelpSae.Benchmarks;

/// <summary>Median wall time of a workload after warm-up runs.</summary>
public static class Timing
{
    /// <summary>
    /// Warm-up lasts at least this long: on the project's VMs an idle vCPU comes back at about half
    /// speed, so short workloads timed straight after a pause measured one core, not two.
    /// </summary>
    public static readonly TimeSpan MinWarmup = TimeSpan.FromMilliseconds(250);

    public static double MedianMs(Action work, int warmup, int reps)
    {
        long start = Stopwatch.GetTimestamp();
        for (int i = 0; i < warmup || (warmup > 0 && Stopwatch.GetElapsedTime(start) < MinWarmup); i++) work();
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
