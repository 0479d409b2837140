using RelpSae.Graphs;

namespace RelpSae.Tests.Graphs;

/// <summary>
/// circuit-tracer's influence, pruning and scores on a graph small enough to work out by hand: one block, one position,
/// two features, one error node, one embedding and one logit. Edges (target ← source): logit ← f1 3, logit ← error −1,
/// f1 ← embedding 2, f0 ← embedding 1. Normalised rows: logit: f1 ¾, error ¼; f1: embedding 1; f0: embedding 1.
/// Influence (logit weight 1): f1 ¾, error ¼, embedding ¾ (through f1), f0 0.
/// </summary>
public class GraphPruningTests
{
    private static AttributionGraph Hand()
    {
        const int n = 5;
        var adjacency = new float[n * n];
        void Edge(int target, int source, float w) => adjacency[target * n + source] = w;
        Edge(4, 1, 3);
        Edge(4, 2, -1);
        Edge(1, 3, 2);
        Edge(0, 3, 1);
        return new AttributionGraph
        {
            Tokens = [7], Layers = 1,
            Nodes = [new(GraphNodeKind.Feature, 0, 0, 0, 1), new(GraphNodeKind.Feature, 0, 0, 1, 2), new(GraphNodeKind.Error, 0, 0, -1),
                new(GraphNodeKind.Embedding, -1, 0, 7), new(GraphNodeKind.Logit, 1, 0, 9)],
            Adjacency = adjacency, Bias = new double[n], Input = new double[n], LogitProbabilities = [1f], ActiveFeatures = 2, Method = "hand",
        };
    }

    [Fact]
    public void InfluenceIsTheProbabilityWeightedSumOfNormalisedPaths()
    {
        var g = Hand();
        var influence = GraphInfluence.Influence(GraphInfluence.Normalize(g.Adjacency, g.Count), g.Count, GraphPruning.LogitWeights(g));
        Assert.Equal([0, 0.75, 0.25, 0.75, 0], influence.Select(x => Math.Round(x, 6)));
    }

    [Fact]
    public void ReplacementAndCompletenessScoresAreCircuitTracers()
    {
        var scores = GraphScores.Of(Hand());
        // Replacement: embedding ¾ / (embedding ¾ + error ¼). Completeness: every row but the logit's is error-free (weight =
        // influence + logit weight: 0, ¾, ¼, ¾, 1), the logit's is ¾ error-free: (¾ + ¼ + ¾ + ¾) / 2¾.
        Assert.Equal(0.75, scores.Replacement, 1e-6);
        Assert.Equal(2.5 / 2.75, scores.Completeness, 1e-6);
    }

    [Fact]
    public void PruningKeepsTheNodesThatCarryTheThresholdsShareOfInfluence()
    {
        // Influence sorted: ¾ (f1), ¾ (embedding), ¼ (error), 0, 0 of 1¾: ¾ and ¾ reach 0.857 ≥ 0.8, so the cut is ¾ and the
        // error node goes; f0 has no influence. Left: logit ← f1 ← embedding, both edges needed for 0.98.
        var pruned = GraphPruning.Prune(Hand(), 0.8, 0.98);
        Assert.Equal([false, true, false, true, true], pruned.NodeMask);
        Assert.Equal(2, pruned.Edges);
        Assert.True(pruned.EdgeMask[4 * 5 + 1] && pruned.EdgeMask[1 * 5 + 3]);
        Assert.Equal([1, 0.75 / 1.75, 1, 1.5 / 1.75, 1], pruned.CumulativeScores.Select(x => Math.Round(x, 6)), new RoundedEquality());
    }

    [Fact]
    public void ThresholdsOfOneKeepEveryNodeWithAPathToTheLogit()
    {
        var pruned = GraphPruning.Prune(Hand(), 1, 1);
        // f0 reaches no logit: no outgoing edge is kept, so it goes; every other node and all three edges on paths stay.
        Assert.Equal([false, true, true, true, true], pruned.NodeMask);
        Assert.Equal(3, pruned.Edges);
    }

    [Theory]
    [InlineData(0.0)]
    [InlineData(1.5)]
    [InlineData(double.NaN)]
    public void AThresholdOutsideZeroToOneIsRefused(double threshold)
    {
        var e = Assert.Throws<RelpSaeException>(() => GraphPruning.Prune(Hand(), threshold, 0.98));
        Assert.StartsWith("the node threshold must lie in (0, 1]", e.Message);
    }

    private sealed class RoundedEquality : IEqualityComparer<double>
    {
        public bool Equals(double a, double b) => Math.Abs(a - b) < 1e-6;
        public int GetHashCode(double x) => 0;
    }
}
