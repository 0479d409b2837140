using RelpSae.Numerics;

namespace RelpSae.Tests.Numerics;

public class BenchmarkHelpersTests
{
    [Fact]
    public void FmaPeakAndGemmRatesArePositiveAndFinite()
    {
        double peak = FmaPeak.MeasureGflops(1, TimeSpan.FromMilliseconds(30));
        double gemm = GemmBenchmark.MeasureGflops(64, 96, 64, threads: 1, reps: 3);
        Assert.True(peak > 0 && double.IsFinite(peak), $"peak {peak}");
        Assert.True(gemm > 0 && double.IsFinite(gemm), $"gemm {gemm}");
    }

    [Fact]
    public void BadArgumentsAreRejected()
    {
        Assert.Throws<ArgumentOutOfRangeException>(() => FmaPeak.MeasureGflops(0, TimeSpan.FromMilliseconds(1)));
        Assert.Throws<ArgumentOutOfRangeException>(() => GemmBenchmark.MeasureGflops(0, 1, 1, 1));
        Assert.Throws<RelpSaeException>(() => Threads.Count = 0);
    }
}
