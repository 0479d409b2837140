using System.Numerics.Tensors;
using RelpSae.Graphs;
using RelpSae.Model;
using RelpSae.Sae;
using RelpSae.Tests.Cli;

namespace RelpSae.Tests.Graphs;

/// <summary>
/// The ends of a graph's faithfulness curve, against the model run by hand: the metric is the graph's top logit as its
/// logit node reads it; keeping every feature and error node is the model itself (faithfulness 1), keeping none is every
/// MLP replaced by its transcoder's bias b_dec (faithfulness 0) — but for position 0 after BOS, which stays live.
/// </summary>
public class GraphFaithfulnessTests
{
    private static readonly string Transcoders = TestPaths.Data("graph-transcoders");

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void EveryNodeKeptIsTheModelAndNoneKeptIsEveryMlpItsBias(bool bos)
    {
        var bundle = ModelFolder.Load(CliHarness.Tarot);
        var set = TranscoderSet.Load(Transcoders, bundle.Facts);
        var tokens = bundle.Encode("The tower card means", prependBos: bos);
        var setup = GraphSetup.Create(bundle.Transformer, set, tokens, new GraphOptions());
        var graph = GraphMethod.Build(setup, GraphMethod.Replacement, igSteps: 1);
        var every = graph.Nodes.Where(n => n.Kind is GraphNodeKind.Feature or GraphNodeKind.Error).ToList();

        var m = GraphFaithfulness.Metrics(setup, [null, every, []]);
        Assert.Equal(setup.LogitInputs[0], m[0], 1e-4);   // the graph's own top logit node
        Assert.Equal(1.0, GraphFaithfulness.Ratio(m[1], m[0], m[2]), 1e-5);
        Assert.Equal(BiasesOnly(bundle.Transformer, set, tokens, setup.Logits.Directions[0], keepFirst: bos), m[2], 1e-4);
        Assert.Equal(0.0, GraphFaithfulness.Ratio(m[2], m[0], m[2]));
    }

    [Fact]
    public void TheCurveIsTheFaithfulnessOfEachThresholdsPrunedGraph()
    {
        var bundle = ModelFolder.Load(CliHarness.Tarot);
        var setup = GraphSetup.Create(bundle.Transformer, TranscoderSet.Load(Transcoders, bundle.Facts), bundle.Encode("The tower card means"), new GraphOptions());
        var graph = GraphMethod.Build(setup, "gradient", igSteps: 1);
        var curve = GraphFaithfulness.Measure(setup, graph, [0.5, 0.9, 1.0], 0.98);
        Assert.Equal("gradient", curve.Method);
        Assert.Equal(setup.Logits.Tokens[0], curve.Token);
        foreach (var point in curve.Points)
        {
            var pruning = GraphPruning.Prune(graph, point.Threshold, 0.98);
            var kept = graph.Nodes.Where((n, i) => pruning.NodeMask[i] && n.Kind is GraphNodeKind.Feature or GraphNodeKind.Error).ToList();
            Assert.Equal(kept.Count(n => n.Kind == GraphNodeKind.Feature), point.FeatureNodes);
            Assert.Equal(kept.Count(n => n.Kind == GraphNodeKind.Error), point.ErrorNodes);
            var m = GraphFaithfulness.Metrics(setup, [kept]);
            Assert.Equal(m[0], point.Metric, 1e-5);
            Assert.Equal(GraphFaithfulness.Ratio(m[0], curve.Clean, curve.Empty), point.Faithfulness, 1e-9);
        }
        Assert.True(curve.Points[0].FeatureNodes < curve.Points[^1].FeatureNodes);
    }

    /// <summary>The demeaned logit along <paramref name="direction"/> with every MLP's output its transcoder's b_dec (position 0 left alone with <paramref name="keepFirst"/>).</summary>
    private static double BiasesOnly(ITransformer model, IReadOnlyList<HookedTranscoder> set, int[] tokens, float[] direction, bool keepFirst)
    {
        using var run = model.Forward(tokens, 1, new RunOptions { Logits = LogitRows.None, Rewrite = new Biases(set, keepFirst ? 1 : 0) });
        int d = model.Facts.DModel;
        return TensorPrimitives.Dot(run.Final.AsSpan((tokens.Length - 1) * d, d), direction);
    }

    private sealed class Biases(IReadOnlyList<HookedTranscoder> set, int from) : IActivationRewrite
    {
        public void Apply(HookPoint hook, float[] activation, int batch, int tokens)
        {
            if (set.FirstOrDefault(t => t.Output == hook) is not { } t) return;
            var bias = t.Transcoder.Dictionary.BDec;
            for (int p = from; p < tokens; p++) bias.CopyTo(activation.AsSpan(p * bias.Length, bias.Length));
        }
    }
}
