using RelpSae.Formats;
using RelpSae.Graphs;
using RelpSae.Sae;

namespace RelpSae.Tests.Graphs;

/// <summary>
/// The replacement model's attribution graph of tarot-gpt2 with four random transcoders (one with a skip connection)
/// against scripts/graph_reference.py, which runs GPT-2 in PyTorch with the attention patterns and LayerNorm scales
/// detached and takes every edge by autograd and every bias by running the frozen model with all sources set to zero.
/// </summary>
public class GraphOracleTests
{
    private static readonly string Folder = TestPaths.Data("graph-transcoders");

    internal static AttributionGraph Build(string method = GraphMethod.Replacement, GraphOptions? options = null)
    {
        var model = Families.Named("tarot-gpt2").Load();
        using var expected = SafetensorsFile.Open(Path.Combine(Folder, "expected.safetensors"));
        int[] tokens = [.. expected.ReadFloat("tokens").Data.Select(t => (int)t)];
        var setup = GraphSetup.Create(model, TranscoderSet.Load(Folder, model.Facts), tokens, options ?? new GraphOptions());
        return GraphAttribution.Build(setup, GraphMethod.Parse(method), method);
    }

    [Theory]
    [InlineData(2048)]
    [InlineData(7 * 5)]     // five sequences a pass: targets of several layers and logits share passes
    public void EdgesAndBiasesMatchTheFrozenModelComputedByAutograd(int batchRows)
    {
        var graph = Build(options: new GraphOptions { BatchRows = batchRows });
        using var expected = SafetensorsFile.Open(Path.Combine(Folder, "expected.safetensors"));
        var features = expected.ReadFloat("features").Data;
        int nFeat = features.Length / 4;
        Assert.Equal(nFeat, graph.FeatureCount);
        for (int k = 0; k < nFeat; k++)
        {
            var node = graph.Nodes[k];
            Assert.Equal(((int)features[4 * k], (int)features[4 * k + 1], (int)features[4 * k + 2]), (node.Layer, node.Position, node.Index));
            Assert.Equal(features[4 * k + 3], node.Activation, 1e-4f);
        }
        Assert.Equal(expected.ReadFloat("logit_tokens").Data.Select(t => (int)t), graph.Nodes.Skip(graph.LogitStart).Select(n => n.Index));
        var probabilities = expected.ReadFloat("logit_probabilities").Data;
        for (int k = 0; k < probabilities.Length; k++) Assert.Equal(probabilities[k], graph.LogitProbabilities[k], 1e-4f);

        var adjacency = expected.ReadFloat("adjacency").Data;
        var bias = expected.ReadFloat("bias").Data;
        int n = graph.Count;
        Assert.Equal(adjacency.Length, n * n);
        double worst = 0;
        for (int e = 0; e < adjacency.Length; e++) worst = Math.Max(worst, Math.Abs(adjacency[e] - graph.Adjacency[e]) / (1 + Math.Abs(adjacency[e])));
        Assert.True(worst < 1e-4, $"largest edge difference {worst:E2}");
        for (int t = 0; t < n; t++) Assert.True(Math.Abs(bias[t] - graph.Bias[t]) < 1e-4 * (1 + Math.Abs(bias[t])), $"node {t}: bias {graph.Bias[t]} against {bias[t]}");
    }

    [Fact]
    public void EveryFeaturesIncomingEdgesPlusBiasGiveItsActivation()
    {
        var graph = Build();
        for (int t = 0; t < graph.FeatureCount; t++)
        {
            double sum = graph.Bias[t];
            for (int s = 0; s < graph.Count; s++) sum += graph.Edge(t, s);
            Assert.Equal(graph.Nodes[t].Activation, sum, 1e-4 * (1 + Math.Abs(sum)));
        }
    }

    [Fact]
    public void TheExactGradientGivesOtherEdgesThanTheFrozenModel()
    {
        var replacement = Build();
        var gradient = Build("gradient");
        Assert.Equal(replacement.Count, gradient.Count);
        Assert.Contains(Enumerable.Range(0, replacement.Adjacency.Length), e => Math.Abs(replacement.Adjacency[e] - gradient.Adjacency[e]) > 1e-3);
    }
}
