using RelpSae.Benchmarks;
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

    [Fact]
    public void ForwardFlopsAreTwicePerWeightPerRowPlusAttentionAndLogits()
    {
        // Counted from the weights themselves: every block matrix is used once per row.
        var c = ModelBenchmark.Gpt2Small with { NLayers = 2 };
        var w = RelpSae.Model.Gpt2Weights.Random(c, seed: 0);
        double perRow = w.Layers.Sum(l => (double)l.WQkv.Length + l.WO.Length + l.WFc.Length + l.WProj.Length);
        int batch = 3, tokens = 5, logitRows = 2;
        double expected = 2 * perRow * batch * tokens
            + c.NLayers * batch * 2 * (2.0 * tokens * tokens * c.DHead) * c.NHeads   // q·kᵀ and pattern·v per head
            + 2.0 * logitRows * w.Unembed.Length;
        Assert.Equal(expected, FlopCounts.Gpt2Forward(c, batch, tokens, c.NLayers, logitRows), 6);
    }

    [Fact]
    public void GradientFlopsAreTheForwardPlusEachTransposedMapAndFourAttentionProductsWithTheLastMlpOnMetricRows()
    {
        var c = ModelBenchmark.Gpt2Small with { NLayers = 3 };
        var w = RelpSae.Model.Gpt2Weights.Random(c, seed: 0);
        int batch = 2, tokens = 7, rows = batch * tokens;
        double attention = w.Layers.Sum(l => (double)l.WQkv.Length + l.WO.Length);
        double mlp = w.Layers.Sum(l => (double)l.WFc.Length + l.WProj.Length), lastMlp = w.Layers[^1].WFc.Length + w.Layers[^1].WProj.Length;
        double expected = FlopCounts.Gpt2Forward(c, batch, tokens, c.NLayers, 0)
            + 2 * rows * attention + c.NLayers * batch * 4 * (2.0 * tokens * tokens * c.DHead) * c.NHeads   // dv, d scores, dq, dk per head
            + 2 * rows * (mlp - lastMlp) + 2 * batch * lastMlp;
        Assert.Equal(expected, FlopCounts.Gpt2Gradient(c, batch, tokens, c.NLayers), 6);
        // Per sequence: integrated gradients' batched passes are counted as steps × one gradient.
        Assert.Equal(batch * FlopCounts.Gpt2Gradient(c, 1, tokens, 2), FlopCounts.Gpt2Gradient(c, batch, tokens, 2), 6);
    }

    [Fact]
    public void IgCostIsItsTimeInGradientsAndItsFloorIsItsWorkAtThePeakInTheSameGradients()
    {
        var gradient = new RelpSae.Reports.BenchRow("attribution_gradient", 1, 64, 2, 50) { Gflop = 10, PeakGflops = 400 };
        var ig = new RelpSae.Reports.BenchRow("attribution_ig32", 1, 64, 2, 1000) { Gflop = 320, PeakGflops = 400 };
        var (gradients, floor) = AttributionBenchmark.IgCost(ig, gradient);
        Assert.Equal(20, gradients, 12);
        Assert.Equal(16, floor, 12);   // 320 GFLOP at 400 GFLOP/s = 800 ms = 16 gradients of 50 ms
        // The floor is steps × the gradient's fraction of the peak: 32 × (10 GFLOP / 50 ms) / 400 GFLOP/s.
        Assert.Equal(32 * gradient.FractionOfPeak, floor, 12);
    }
}
