using System.Diagnostics;

namespace RelpSae.Numerics;

/// <summary>Times <see cref="Gemm.Multiply"/> on random operands (for the bench command; never in tests).</summary>
public static class GemmBenchmark
{
    /// <summary>
    /// GFLOP/s (2·m·n·k per product) of the median of <paramref name="reps"/> timed products, after one
    /// untimed warm-up, on <paramref name="threads"/> threads. op(B) is Bᵀ when <paramref name="transB"/>
    /// (the unembedding's A·Bᵀ), likewise op(A).
    /// </summary>
    public static double MeasureGflops(int m, int n, int k, int threads,
        bool transA = false, bool transB = false, int reps = 5)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(m, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(reps, 1);
        var rng = new Random(0);
        float[] a = Random(rng, m * k), b = Random(rng, k * n), c = new float[m * n];
        int lda = transA ? m : k, ldb = transB ? k : n;
        var seconds = new double[reps];
        for (int r = -1; r < reps; r++)
        {
            long t0 = Stopwatch.GetTimestamp();
            Gemm.Multiply(m, n, k, a, lda, transA, b, ldb, transB, c, n, false, GemmPath.Best, threads);
            if (r >= 0) seconds[r] = Stopwatch.GetElapsedTime(t0).TotalSeconds;
        }
        Array.Sort(seconds);
        return 2.0 * m * n * k / seconds[reps / 2] / 1e9;
    }

    private static float[] Random(Random rng, int count)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = rng.NextSingle() * 2 - 1;
        return x;
    }
}
