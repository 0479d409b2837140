using RelpSae.Lrp;
using RelpSae.Model;
using RelpSae.Numerics;

namespace RelpSae.Tests.Model;

/// <summary>
/// A GPT-2 pass told which positions will be read (<see cref="RunOptions.OutputPositions"/>) runs its last
/// block past attention, and ln_f, on those rows alone: the rows it computes, the metrics and both backward
/// passes are those of the full pass bit for bit, on 1 and 2 threads (the full and pruned products are then
/// split differently), because a row of a product with a packed B does not depend on the other rows.
/// </summary>
public class OutputPositionsTests
{
    // Wide enough that the full pass's products are split over threads and the pruned ones are not.
    private static readonly Gpt2Config Config = new(VocabSize: 300, NPositions: 64, DModel: 128, NLayers: 2, NHeads: 4, DMlp: 512,
        LayerNormEps: 1e-5f, Activation: "gelu_new", BosTokenId: 0);
    private const int Batch = 3, T = 40;

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    public void PackedProductRowsDoNotDependOnTheOtherRows(int threads)
    {
        var rng = new Random(4);
        int m = 70, k = 512, n = 520;
        var a = Enumerable.Range(0, m * k).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray();
        var b = new PackedMatrix(Matrix.Of(Enumerable.Range(0, k * n).Select(_ => (float)rng.NextDouble() - 0.5f).ToArray(), k, n));
        var full = new float[m * n];
        Gemm.Multiply(Matrix.Of(a, m, k), b, Matrix.Into(full, m, n), accumulate: false, threads);
        foreach (var (first, rows) in new[] { (0, 1), (13, 1), (5, 3), (61, 9) })
        {
            var part = new float[rows * n];
            Gemm.Multiply(Matrix.Of(a.AsSpan(first * k), rows, k), b, Matrix.Into(part, rows, n), accumulate: false, threads);
            Assert.Equal(full.AsSpan(first * n, rows * n).ToArray(), part);
        }
    }

    [Theory]
    [InlineData(1, new[] { -1 })]
    [InlineData(2, new[] { -1 })]
    [InlineData(2, new[] { 5, -1 })]
    public void ReadRowsMetricsAndBackwardAreThoseOfTheFullPass(int threads, int[] positions)
    {
        var model = new Gpt2(Gpt2Weights.Random(Config, seed: 2));
        var ids = Enumerable.Range(0, Batch * T).Select(i => i * 37 % Config.VocabSize).ToArray();
        var metrics = positions.Select(p => new Metric(MetricKind.LogitDiff, Target: 3, Foil: 11, Position: p)).ToArray();
        var hook = new HookPoint(HookKind.ResidPre, 0);
        int saved = Threads.Count;
        try
        {
            Threads.Count = threads;
            using var full = model.Forward(ids, Batch, new RunOptions { KeepForBackward = true, Logits = LogitRows.None });
            using var pruned = model.Forward(ids, Batch, new RunOptions { KeepForBackward = true, Logits = LogitRows.None, OutputPositions = positions });
            int d = Config.DModel;
            for (int b = 0; b < Batch; b++)
                foreach (int p in positions)
                {
                    int row = b * T + (p < 0 ? T + p : p);
                    Assert.Equal(full.Final.AsSpan(row * d, d).ToArray(), pruned.Final.AsSpan(row * d, d).ToArray());
                }
            foreach (var metric in metrics)
            {
                Assert.Equal(full.MetricValues(metric), pruned.MetricValues(metric));
                foreach (var rules in new[] { PropagationRules.Gradient, PropagationRules.RelP })
                    Assert.Equal(full.Backward(metric, hook, rules), pruned.Backward(metric, hook, rules));
            }
        }
        finally { Threads.Count = saved; }
    }

    [Fact]
    public void LastLogitsAreThoseOfTheFullPass()
    {
        var model = new Gpt2(Gpt2Weights.Random(Config, seed: 3));
        var ids = Enumerable.Range(0, Batch * T).Select(i => i * 11 % Config.VocabSize).ToArray();
        using var full = model.Forward(ids, Batch, new RunOptions { Logits = LogitRows.Last });
        var expected = full.Logits.AsSpan(0, Batch * Config.VocabSize).ToArray();
        using var pruned = model.Forward(ids, Batch, new RunOptions { Logits = LogitRows.Last, OutputPositions = [7] });
        Assert.Equal(expected, pruned.Logits.AsSpan(0, Batch * Config.VocabSize).ToArray());
    }

    [Fact]
    public void AMetricAtAnotherPositionIsRefusedAndAHookedTailComputesEveryRow()
    {
        var model = new Gpt2(Gpt2Weights.Random(Config, seed: 4));
        var ids = Enumerable.Range(0, T).Select(i => i * 5 % Config.VocabSize).ToArray();
        using var pruned = model.Forward(ids, 1, new RunOptions { Logits = LogitRows.None, OutputPositions = [-1] });
        var error = Assert.Throws<ArgumentException>(() => pruned.MetricValues(new Metric(MetricKind.Logit, 3, Position: 4)));
        Assert.Contains("metric position 4 is not among the pass's output positions (39)", error.Message);
        // Caching the last block's MLP output needs every row: the pass then computes them all.
        var mlpOut = new HookPoint(HookKind.MlpOut, Config.NLayers - 1);
        using var full = model.Forward(ids, 1, new RunOptions { Logits = LogitRows.None, Cache = [mlpOut] });
        using var hooked = model.Forward(ids, 1, new RunOptions { Logits = LogitRows.None, Cache = [mlpOut], OutputPositions = [-1] });
        Assert.Equal(full.Cached(mlpOut), hooked.Cached(mlpOut));
        Assert.Equal(full.Final.AsSpan(0, T * Config.DModel).ToArray(), hooked.Final.AsSpan(0, T * Config.DModel).ToArray());
        Assert.Throws<RelpSaeException>(() => model.Forward(ids, 1, new RunOptions { OutputPositions = [T] }));
    }
}
