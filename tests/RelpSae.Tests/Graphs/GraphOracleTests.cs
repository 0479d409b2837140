using RelpSae.Formats;
using RelpSae.Graphs;
using RelpSae.Sae;

namespace RelpSae.Tests.Graphs;

/// <summary>
/// The replacement model's attribution graph against scripts/graph_reference.py, which runs the model in PyTorch with
/// the attention patterns and norm scales detached at their clean values and takes every edge by autograd and every
/// bias by running the frozen model with all sources set to zero: tarot-gpt2 (LayerNorm, transcoders reading
/// ln2.hook_normalized, BOS in front) and tiny-qwen3 (gated MLP, RMSNorm, QK-norm, grouped-query attention,
/// transcoders reading mlp.hook_in, no BOS) and tiny-neox (attention and MLP in parallel, both reading hook_resid_pre,
/// BOS in front), each with random transcoders, one of them with a skip connection; and tarot-gpt2 with random
/// residual-stream SAEs at every hook_resid_post (b_dec subtracted from their input), whose edges pass through the MLPs
/// with their GELU gates frozen too.
/// </summary>
public class GraphOracleTests
{
    public static TheoryData<string, string, int> Fixtures => new()
    {
        { "tarot-gpt2", "graph-transcoders", 2048 },
        { "tarot-gpt2", "graph-transcoders", 7 * 5 },   // five sequences a pass: targets of several layers and logits share passes
        { "tiny-qwen3", "graph-transcoders-qwen3", 2048 },
        { "tiny-qwen3", "graph-transcoders-qwen3", 7 * 3 },
        { "tiny-neox", "graph-transcoders-neox", 2048 },
        { "tiny-neox", "graph-transcoders-neox", 6 * 4 },
        { "tarot-gpt2", "graph-resid-saes", 2048 },
        { "tarot-gpt2", "graph-resid-saes", 7 * 5 },
    };

    internal static AttributionGraph Build(string method = GraphMethod.Replacement, GraphOptions? options = null, string fixture = "tarot-gpt2",
        string transcoders = "graph-transcoders", int igSteps = 4)
        => GraphMethod.Build(Setup(fixture, transcoders, options), method, igSteps);

    internal static GraphSetup Setup(string fixture = "tarot-gpt2", string transcoders = "graph-transcoders", GraphOptions? options = null)
    {
        string folder = TestPaths.Data(transcoders);
        var model = Families.Named(fixture).Load();
        using var expected = SafetensorsFile.Open(Path.Combine(folder, "expected.safetensors"));
        int[] tokens = [.. expected.ReadFloat("tokens").Data.Select(t => (int)t)];
        return GraphSetup.Create(model, GraphDictionaries.Load(folder, model.Facts), tokens, options ?? new GraphOptions());
    }

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void EdgesAndBiasesMatchTheFrozenModelComputedByAutograd(string fixture, string transcoders, int batchRows)
    {
        var graph = Build(options: new GraphOptions { BatchRows = batchRows }, fixture: fixture, transcoders: transcoders);
        using var expected = SafetensorsFile.Open(Path.Combine(TestPaths.Data(transcoders), "expected.safetensors"));
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

        AssertEdges(graph, expected, "adjacency", "bias");
    }

    /// <summary>The graph's edges and biases are those of the reference's tensors <paramref name="adjacencyKey"/> and <paramref name="biasKey"/>.</summary>
    internal static void AssertEdges(AttributionGraph graph, SafetensorsFile expected, string adjacencyKey, string biasKey)
    {
        var adjacency = expected.ReadFloat(adjacencyKey).Data;
        var bias = expected.ReadFloat(biasKey).Data;
        int n = graph.Count;
        Assert.Equal(adjacency.Length, n * n);
        double worst = 0;
        for (int e = 0; e < adjacency.Length; e++) worst = Math.Max(worst, Math.Abs(adjacency[e] - graph.Adjacency[e]) / (1 + Math.Abs(adjacency[e])));
        Assert.True(worst < 1e-4, $"largest edge difference {worst:E2}");
        for (int t = 0; t < n; t++) Assert.True(Math.Abs(bias[t] - graph.Bias[t]) < 1e-4 * (1 + Math.Abs(bias[t])), $"node {t}: bias {graph.Bias[t]} against {bias[t]}");
    }

    [Theory]
    [InlineData("tarot-gpt2", "graph-transcoders")]
    [InlineData("tiny-qwen3", "graph-transcoders-qwen3")]
    [InlineData("tiny-neox", "graph-transcoders-neox")]
    [InlineData("tarot-gpt2", "graph-resid-saes")]
    public void EveryFeaturesIncomingEdgesPlusBiasGiveItsActivation(string fixture, string transcoders)
    {
        var graph = Build(fixture: fixture, transcoders: transcoders);
        for (int t = 0; t < graph.FeatureCount; t++)
        {
            double sum = graph.Bias[t];
            for (int s = 0; s < graph.Count; s++) sum += graph.Edge(t, s);
            Assert.Equal(graph.Nodes[t].Activation, sum, 1e-4 * (1 + Math.Abs(sum)));
        }
    }

    [Theory]
    [InlineData("gradient")]
    [InlineData("ig")]
    public void AMethodComparedWithAGraphOfFewerFeaturesThanActiveKeepsItsFeaturesAndItsOwnEdges(string method)
    {
        // Each method ranks features by its own influence: left alone, it would keep others than the graph it is compared with.
        var options = new GraphOptions { MaxFeatureNodes = 40 };
        var setup = Setup(options: options);
        var first = GraphMethod.Build(setup, GraphMethod.Replacement, 4);
        var compared = GraphMethod.Build(setup, method, 4, sameFeaturesAs: first);
        Assert.Equal(first.Nodes, compared.Nodes);
        // Its edges are its own: those of its graph of every feature, between the same nodes.
        var full = GraphMethod.Build(Setup(), method, 4);
        var index = full.Nodes.Select((node, i) => (node, i)).ToDictionary(p => p.node, p => p.i);
        for (int t = 0; t < compared.Count; t++)
        {
            if (compared.Nodes[t].Kind is not (GraphNodeKind.Feature or GraphNodeKind.Logit)) continue;
            for (int s = 0; s < compared.Count; s++)
                Assert.Equal(full.Edge(index[compared.Nodes[t]], index[compared.Nodes[s]]), compared.Edge(t, s), 1e-5f);
        }
    }

    [Theory]
    [InlineData("graph-transcoders")]
    [InlineData("graph-resid-saes")]
    public void TheExactGradientGivesOtherEdgesThanTheFrozenModel(string dictionaries)
    {
        var replacement = Build(transcoders: dictionaries);
        var gradient = Build("gradient", transcoders: dictionaries);
        Assert.Equal(replacement.Count, gradient.Count);
        Assert.Contains(Enumerable.Range(0, replacement.Adjacency.Length), e => Math.Abs(replacement.Adjacency[e] - gradient.Adjacency[e]) > 1e-3);
    }
}
