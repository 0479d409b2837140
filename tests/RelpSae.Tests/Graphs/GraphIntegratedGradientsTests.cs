using System.Numerics.Tensors;
using RelpSae.Attribution;
using RelpSae.Formats;
using RelpSae.Graphs;
using RelpSae.Model;

namespace RelpSae.Tests.Graphs;

/// <summary>
/// Integrated gradients as a graph method: its edges and those of the gradient method against
/// scripts/graph_reference.py (the spliced model with attention and norms live, every node feature and error scaled by
/// α, autograd at each midpoint node); along the path the edges from the MLP outputs add up to each target's change,
/// ever closer as the steps grow; at the path's clean end they are the gradient's edges.
/// </summary>
public class GraphIntegratedGradientsTests
{
    /// <summary>The oracle's transcoder fixtures: ig's path moves MLP outputs, which a graph over residual-stream SAEs does not cut.</summary>
    public static TheoryData<string, string, int> Fixtures
    {
        get
        {
            var data = new TheoryData<string, string, int>();
            foreach (var row in GraphOracleTests.Fixtures)
                if ((string)row[1] != "graph-resid-saes") data.Add((string)row[0], (string)row[1], (int)row[2]);
            return data;
        }
    }

    public static TheoryData<string, string> FixtureFolders => new()
    {
        { "tarot-gpt2", "graph-transcoders" },
        { "tiny-qwen3", "graph-transcoders-qwen3" },
        { "tiny-neox", "graph-transcoders-neox" },
    };

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void GradientAndIgEdgesMatchTheLiveSplicedModelComputedByAutograd(string fixture, string transcoders, int batchRows)
    {
        using var expected = SafetensorsFile.Open(Path.Combine(TestPaths.Data(transcoders), "expected.safetensors"));
        var options = new GraphOptions { BatchRows = batchRows };
        GraphOracleTests.AssertEdges(GraphOracleTests.Build("gradient", options, fixture, transcoders), expected, "gradient_adjacency", "gradient_bias");
        int steps = (int)expected.ReadFloat("ig_steps").Data[0];
        var ig = GraphOracleTests.Build(GraphMethod.IntegratedGradients, options, fixture, transcoders, steps);
        Assert.Equal(GraphMethod.IntegratedGradients, ig.Method);
        GraphOracleTests.AssertEdges(ig, expected, "ig_adjacency", "ig_bias");
    }

    [Theory]
    [MemberData(nameof(FixtureFolders))]
    public void TheEdgesFromTheMlpOutputsAddUpToEachTargetsChangeAlongThePathCloserAsStepsGrow(string fixture, string transcoders)
    {
        var setup = GraphOracleTests.Setup(fixture, transcoders);
        var change = TargetsAt(setup, 1).Zip(TargetsAt(setup, 0), (one, zero) => one - zero).ToArray();
        double scale = change.Max(Math.Abs);
        double Gap(int steps, int batchRows)
        {
            // Few sequences a pass: the path points of a target spread over several passes, the last one shorter.
            var graph = GraphIntegratedGradients.Build(GraphOracleTests.Setup(fixture, transcoders, new GraphOptions { BatchRows = batchRows }), steps);
            double worst = 0;
            for (int t = 0; t < change.Length; t++)
            {
                int row = t < graph.FeatureCount ? t : graph.LogitStart + t - graph.FeatureCount;
                double sum = 0;
                for (int s = 0; s < graph.TokenStart; s++) sum += graph.Edge(row, s);
                worst = Math.Max(worst, Math.Abs(sum - change[t]));
            }
            return worst / scale;
        }
        int T = setup.Tokens.Length;
        double coarse = Gap(4, 2048), fine = Gap(32, 3 * T);
        Assert.True(fine < coarse / 8 && fine < 0.02, $"completeness gap {coarse:E2} at 4 steps, {fine:E2} at 32 (of the largest change {scale:F3})");
    }

    [Theory]
    [MemberData(nameof(FixtureFolders))]
    public void AtTheCleanEndOfThePathTheEdgesAreTheGradients(string fixture, string transcoders)
    {
        var setup = GraphOracleTests.Setup(fixture, transcoders);
        var gradient = GraphAttribution.Build(setup, GraphMethod.Parse("gradient"), "gradient");
        var end = GraphIntegratedGradients.Build(setup, [1.0], [1.0]);
        for (int e = 0; e < gradient.Adjacency.Length; e++)
            Assert.True(Math.Abs(end.Adjacency[e] - gradient.Adjacency[e]) <= 1e-5 * (1 + Math.Abs(gradient.Adjacency[e])),
                $"edge {e}: {end.Adjacency[e]} at α = 1 against the gradient's {gradient.Adjacency[e]}");
    }

    /// <summary>Every target's value (the features' pre-activations a·W_enc, less b_enc; the logits' demeaned values) at point α of the path.</summary>
    private static double[] TargetsAt(GraphSetup setup, double alpha)
    {
        int T = setup.Tokens.Length, d = setup.Model.Facts.DModel;
        var splices = TranscoderSplice.All(setup.Model, setup.Set, setup.Tokens);
        var path = new IntegratedPath(setup, splices, IntegratedPath.NodeSums(setup), [alpha]);
        using var run = setup.Model.Forward(setup.Tokens, 1, new RunOptions { Rewrite = path, Cache = [.. setup.Set.Select(t => t.Input)], Logits = LogitRows.Last });
        var values = new List<double>();
        for (int f = 0; f < setup.ActiveFeatures; f++)
        {
            var transcoder = setup.Set[setup.FeatureLayer[f]];
            var input = run.Cached(transcoder.Input).AsSpan(setup.FeaturePosition[f] * d, d);
            var dictionary = transcoder.Transcoder.Dictionary;
            double pre = 0;
            for (int j = 0; j < d; j++) pre += dictionary.WEnc[j * dictionary.DSae + setup.FeatureIndex[f]] * input[j];
            values.Add(pre);
        }
        var last = run.Final[((T - 1) * d)..(T * d)];
        values.AddRange(setup.Logits.Directions.Select(u => (double)TensorPrimitives.Dot(last, u)));
        return [.. values];
    }
}
