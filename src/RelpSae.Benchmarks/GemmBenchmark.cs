using RelpSae.Numerics;

namespace RelpSae.Benchmarks;

/// <summary>Times <see cref="Gemm.Multiply"/> on random operands (for the bench command; never in tests).</summary>
public static class GemmBenchmark
{
    /// <summary>
    /// GFLOP/s (2·m·n·k per product) of the median of <paramref name="reps"/> timed products, after a
    /// warm-up (<see cref="Timing"/>), on <paramref name="threads"/> threads. op(B) is Bᵀ when <paramref name="transB"/>
    /// (the unembedding's A·Bᵀ), likewise op(A). With <paramref name="prepackB"/>, B is packed once
    /// beforehand (<see cref="PackedMatrix"/>), as the model's weights are.
    /// </summary>
    public static double MeasureGflops(int m, int n, int k, int threads,
        bool transA = false, bool transB = false, int reps = 5, bool prepackB = false)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(m, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(reps, 1);
        var rng = new Random(0);
        float[] a = Random(rng, m * k), b = Random(rng, k * n), c = new float[m * n];
        ReadOnlyMatrixView OpA() => transA ? Matrix.Of(a, k, m).T : Matrix.Of(a, m, k);
        ReadOnlyMatrixView OpB() => transB ? Matrix.Of(b, n, k).T : Matrix.Of(b, k, n);
        var packed = prepackB ? new PackedMatrix(OpB()) : null;
        void Product()
        {
            if (packed is null) Gemm.Multiply(OpA(), OpB(), Matrix.Into(c, m, n), accumulate: false, threads);
            else Gemm.Multiply(OpA(), packed, Matrix.Into(c, m, n), accumulate: false, threads);
        }
        return 2.0 * m * n * k / (Timing.MedianMs(Product, warmup: 1, reps) / 1000) / 1e9;
    }

    private static float[] Random(Random rng, int count)
    {
        var x = new float[count];
        for (int i = 0; i < count; i++) x[i] = rng.NextSingle() * 2 - 1;
        return x;
    }
}
