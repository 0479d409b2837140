using RelpSae.Graphs;

namespace RelpSae.Tests.Graphs;

/// <summary>
/// The linear graph's prediction of an ablation or a clamp, on a model that is the linear graph: each feature's activation
/// is its input Σ_s W[t, s]·a_s + b_t (W the per-unit effects, an edge A[t, s] = W[t, s]·a_s), error nodes and embeddings
/// of value 1, the logits read the same way. Rerunning that model with nodes set to new values changes each logit by
/// exactly what the prediction says, through chains of features, with set nodes cutting the paths through them.
/// </summary>
public class GraphPredictionTests
{
    // Nodes: features f0 (layer 0), f1, f2 (layer 1), f3 (layer 2); one error node; one embedding; two logits.
    private const int Features = 4, Error = 4, Embedding = 5, Logit = 6, N = 8;

    private static readonly double[,] PerUnit = Build();

    private static double[,] Build()
    {
        var w = new double[N, N];
        w[0, Embedding] = 1.5; w[0, Error] = 0.25;
        w[1, 0] = 0.8; w[1, Embedding] = -0.3;
        w[2, 0] = -0.4; w[2, Error] = 1.1;
        w[3, 1] = 0.7; w[3, 2] = 0.9; w[3, 0] = 0.2;
        w[Logit, 3] = 2.0; w[Logit, 1] = -0.5; w[Logit, Error] = 0.3;
        w[Logit + 1, 2] = 1.25; w[Logit + 1, 3] = -0.75; w[Logit + 1, 0] = 0.1;
        return w;
    }

    private static readonly double[] Bias = [0.1, 0.6, 0.2, 0.3, 0, 0, 0.05, -0.2];

    /// <summary>Every node's value in the linear model, the <paramref name="set"/> nodes held at theirs.</summary>
    private static double[] Run(IReadOnlyDictionary<int, double>? set = null)
    {
        var a = new double[N];
        a[Error] = a[Embedding] = 1;
        foreach (int t in new[] { 0, 1, 2, 3, Logit, Logit + 1 })
        {
            if (set is not null && set.TryGetValue(t, out var held)) { a[t] = held; continue; }
            double sum = Bias[t];
            for (int s = 0; s < N; s++) sum += PerUnit[t, s] * a[s];
            a[t] = sum;
        }
        return a;
    }

    private static AttributionGraph Graph()
    {
        var a = Run();
        var nodes = new List<GraphNode>
        {
            new(GraphNodeKind.Feature, 0, 0, 0, (float)a[0]), new(GraphNodeKind.Feature, 1, 0, 1, (float)a[1]),
            new(GraphNodeKind.Feature, 1, 0, 2, (float)a[2]), new(GraphNodeKind.Feature, 2, 0, 3, (float)a[3]),
            new(GraphNodeKind.Error, 0, 0, -1), new(GraphNodeKind.Embedding, -1, 0, 7),
            new(GraphNodeKind.Logit, 3, 0, 10), new(GraphNodeKind.Logit, 3, 0, 11),
        };
        var adjacency = new float[N * N];
        for (int t = 0; t < N; t++)
            for (int s = 0; s < N; s++)
                adjacency[t * N + s] = (float)(PerUnit[t, s] * (s < Features ? a[s] : 1));
        return new AttributionGraph
        {
            // One error node for one layer and one position: the layout of a one-token, one-layer graph.
            Tokens = [7], Layers = 1, Nodes = nodes, Adjacency = adjacency, Bias = Bias, Input = a, LogitProbabilities = [0.6f, 0.3f],
            ActiveFeatures = Features, Method = "linear",
        };
    }

    public static TheoryData<int[], double[]> Changes => new()
    {
        { [0], [0] },          // ablate the first feature: its change runs through f1, f2 and f3
        { [0], [3.5] },        // clamp it higher
        { [0, 1], [0, 2.0] },  // ablate f0 and clamp f1, downstream of it: f1 holds, the path f0 → f1 is cut
        { [3], [0] },          // the last feature, straight onto the logits
        { [1, 2], [0.25, -1] },
    };

    [Theory]
    [MemberData(nameof(Changes))]
    public void APredictionIsTheLinearModelsChangeExactly(int[] nodes, double[] values)
    {
        var set = nodes.Select((node, i) => (node, values[i])).ToDictionary(p => p.node, p => p.Item2);
        var predicted = GraphPrediction.LogitChanges(Graph(), set);
        var (clean, changed) = (Run(), Run(set));
        for (int k = 0; k < 2; k++) Assert.Equal(changed[Logit + k] - clean[Logit + k], predicted[k], 5);
        Assert.NotEqual(0, predicted[0] - predicted[1]);
    }

    [Fact]
    public void SettingAFeatureToItsOwnValueChangesNothing() =>
        Assert.All(GraphPrediction.LogitChanges(Graph(), new Dictionary<int, double> { [2] = Run()[2] }), d => Assert.Equal(0, d, 6));
}
