using RelpSae.Benchmarks;
using RelpSae.Model;
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
        Assert.Throws<ArgumentOutOfRangeException>(() => FmaPeak.MeasureGflops(1, TimeSpan.FromMilliseconds(1), trials: 0));
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
    public void TheStreamFloorIsTheWeightsBytesAtTheReadRateAndTheFloorTheLargerOfTheTwo()
    {
        // 2 GB at 20 GB/s: 100 ms; 10 GFLOP at 200 GFLOP/s: 50 ms.
        var row = new BenchRow("real forward bfloat16", 1, 32, 1, 150) { Gflop = 10, PeakGflops = 200, StreamBytes = 2_000_000_000, ReadGBps = 20 };
        Assert.Equal(100, row.StreamFloorMs, 9);
        Assert.Equal(100, row.FloorMs, 9);
        Assert.Equal(400, (row with { PeakGflops = 25 }).FloorMs, 9);
        Assert.Equal(50, (row with { ReadGBps = 0 }).FloorMs, 9);
        Assert.True(double.IsNaN(new BenchRow("x", 1, 1, 1, 1).FloorMs));
    }

    [Fact]
    public void ARealModelsPassesStreamEachPackedWeightOnceForwardAndTheLaterBlocksOnceMoreBackward()
    {
        // A small Llama with a tied head: the forward reads every block's seven maps and the head (the
        // embedding's panels); the RelP pass to block 2's input reads all the maps, then blocks 2 and 3 again.
        var c = FamilyBenchmark.SmolLm135M with { VocabSize = 300, DModel = 64, NLayers = 4, NHeads = 4, NKvHeads = 2, DHead = 16, DMlp = 96 };
        var model = new Llama(LlamaWeights.FromTensors(c, FamilyBenchmark.Random(FamilyBenchmark.LlamaShapes(c)), "test"));
        var weights = StreamedWeights.Of(model);
        var maps = model.Weights.Layers.Select(l => new[] { l.Maps.Q, l.Maps.K, l.Maps.V, l.Maps.O, l.Maps.Gate, l.Maps.Up, l.Maps.Down }).ToArray();
        long Bytes(int from) => maps.Skip(from).SelectMany(m => m).Sum(m => m.WeightBytes);
        Assert.Equal(Bytes(0) + model.Weights.Embedding.WeightBytes, weights.ForwardBytes);
        Assert.Equal(Bytes(0) + Bytes(2), weights.RelPBytes(2));
        Assert.Equal(PanelElement.Float32, weights.Element);

        // FLOPs: q, k, v and attention on every row; the last block's O and MLP on the logit's row alone; one row of logits.
        int tokens = 5;
        double before = 64.0 * (64 + 32 + 32), after = 64.0 * 64 + 3 * 64.0 * 96, attention = 2 * 2.0 * tokens * tokens * 64;
        double forward = 4 * (2 * tokens * before + attention) + 3 * 2 * tokens * after + 2 * after + 2.0 * 64 * 300;
        Assert.Equal(forward / 1e9, weights.ForwardGflop(1, tokens), 12);
        // Backward to block 2: block 2 whole (each product once, attention's four), block 3 on the logit's row past attention.
        double backward = 2 * tokens * (before + after) + 2 * attention + 2 * after + 4 * 2.0 * tokens * 64 + 2 * tokens * before;
        Assert.Equal((forward - 2.0 * 64 * 300 + backward) / 1e9, weights.RelPGflop(1, tokens, 2), 12);
        Assert.Throws<RelpSaeException>(() => StreamedWeights.Of(new Gpt2(Gpt2Weights.Random(ModelBenchmark.Gpt2Small with { NLayers = 1, VocabSize = 10 }, seed: 0))));
    }

    [Fact]
    public void ReadBandwidthIsPositiveAndFinite()
    {
        double rate = ReadBandwidth.MeasureGBps(2, bytes: 1 << 20, runs: 2);
        Assert.True(rate > 0 && double.IsFinite(rate), $"rate {rate}");
        Assert.Throws<ArgumentOutOfRangeException>(() => ReadBandwidth.MeasureGBps(0));
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
