using RelpSae.Benchmarks;
using RelpSae.Numerics;

namespace RelpSae.Tests.Benchmarks;

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
        double perRow = w.Layers.Sum(l => (double)l.Qkv.Size() + l.O.Size() + l.Fc.Size() + l.Proj.Size());
        int batch = 3, tokens = 5, logitRows = 2;
        double expected = 2 * perRow * batch * tokens
            + c.NLayers * batch * 2 * (2.0 * tokens * tokens * c.DHead) * c.NHeads   // q·kᵀ and pattern·v per head
            + 2.0 * logitRows * w.Unembed.Size();
        Assert.Equal(expected, FlopCounts.Gpt2Forward(c, batch, tokens, c.NLayers, logitRows), 6);
    }

    [Fact]
    public void GradientFlopsAreTheBackwardWorkloadsBlocksAfterTheHookAndAddUpPerSequence()
    {
        // The backward workload from token ids to blocks.0 is the gradient through every block (its count
        // from the weights is checked below); one from blocks.1 adds block 0's forward.
        var c = ModelBenchmark.Gpt2Small with { NLayers = 3 };
        int batch = 2, tokens = 7;
        Assert.Equal(FlopCounts.Gpt2ForwardBackward(c, batch, tokens, 0), FlopCounts.Gpt2Gradient(c, batch, tokens, c.NLayers), 6);
        Assert.Equal(FlopCounts.Gpt2ForwardBackward(c, batch, tokens, 1),
            FlopCounts.Gpt2Forward(c, batch, tokens, 1, 0) + FlopCounts.Gpt2Gradient(c, batch, tokens, 2), 6);
        // Per sequence: integrated gradients' batched passes are counted as steps × one gradient.
        Assert.Equal(batch * FlopCounts.Gpt2Gradient(c, 1, tokens, 2), FlopCounts.Gpt2Gradient(c, batch, tokens, 2), 6);
    }

    [Fact]
    public void IgCostIsItsTimeInGradientsAndItsFloorIsItsWorkAtThePeakInTheSameGradients()
    {
        var gradient = new BenchRow("attribution_gradient", 1, 64, 2, 50) { Gflop = 10, PeakGflops = 400 };
        var ig = new BenchRow("attribution_ig32", 1, 64, 2, 1000) { Gflop = 320, PeakGflops = 400 };
        var (gradients, floor) = AttributionBenchmark.IgCost(ig, gradient);
        Assert.Equal(20, gradients, 12);
        Assert.Equal(16, floor, 12);   // 320 GFLOP at 400 GFLOP/s = 800 ms = 16 gradients of 50 ms
        // The floor is steps × the gradient's fraction of the peak: 32 × (10 GFLOP / 50 ms) / 400 GFLOP/s.
        Assert.Equal(32 * gradient.FractionOfPeak, floor, 12);
    }

    [Fact]
    public void BackwardWorkloadFlopsAreTheForwardPlusEachWeightOnceAndFourAttentionProductsPerBlock()
    {
        // Counted from the weights: below the last block every backward block multiplies every row by each
        // weight matrix once and runs four T×T×d_head products per head; in the last block, forward and
        // backward, the O projection and the MLP see only the metric rows (one per sequence), and the
        // backward's attention products are the metric row's (T×d_head each).
        var c = ModelBenchmark.Gpt2Small with { NLayers = 3 };
        var w = RelpSae.Model.Gpt2Weights.Random(c, seed: 0);
        int batch = 2, tokens = 7, toLayer = 1;
        double rows = batch * tokens, attentionPerSequence = 4 * 2.0 * tokens * tokens * c.DHead * c.NHeads;
        double backward = 0;
        for (int l = toLayer; l < c.NLayers - 1; l++)
        {
            var layer = w.Layers[l];
            backward += 2 * rows * (layer.Qkv.Size() + layer.O.Size() + layer.Fc.Size() + layer.Proj.Size()) + batch * attentionPerSequence;
        }
        var last = w.Layers[c.NLayers - 1];
        double lastForward = 2 * rows * last.Qkv.Size() + batch * attentionPerSequence / 2
            + 2 * batch * (last.O.Size() + last.Fc.Size() + last.Proj.Size());
        double lastBackward = 2 * rows * last.Qkv.Size() + 2 * batch * (last.O.Size() + last.Fc.Size() + last.Proj.Size())
            + batch * 4 * 2.0 * tokens * c.DHead * c.NHeads;
        double expected = FlopCounts.Gpt2Forward(c, batch, tokens, c.NLayers - 1, 0) + lastForward + lastBackward + backward;
        Assert.Equal(expected, FlopCounts.Gpt2ForwardBackward(c, batch, tokens, toLayer), 6);
    }

    [Fact]
    public void InterleavedRowsTakeTheMedianRatioAndRatioAtPeakOverRounds()
    {
        // 10 GFLOP at 100 GFLOP/s is 100 ms at peak; each round's anchor time sets both ratios.
        AnchorRound Round(int i, double peak, double ours, double anchor) => new(i, i % 2 == 1, new Dictionary<int, double> { [1] = peak },
            [new BenchRow("forward", 1, 32, 1, ours) { Gflop = 10, PeakGflops = peak }],
            [new BenchRow("forward", 1, 32, 1, anchor)]);
        var row = Assert.Single(InterleavedAnchor.Summarise([Round(1, 100, 200, 400), Round(2, 50, 300, 500), Round(3, 200, 150, 250)]));
        Assert.Equal([0.5, 0.6, 0.6], row.Ratios);
        Assert.Equal(0.6, row.MedianRatio, 12);
        Assert.Equal([0.25, 0.4, 0.2], row.PeakRatios);
        Assert.Equal(0.25, row.MedianPeakRatio, 12);
        Assert.Equal(10, row.Gflop);
    }
}

internal static class LinearSizes
{
    /// <summary>Weights in the map (inputs × outputs): its multiply-adds per row.</summary>
    public static double Size(this RelpSae.Model.Linear map) => (double)map.Inputs * map.Outputs;
}
