using System.Text.Json;
using RelpSae.Attribution;
using RelpSae.Graphs;

namespace RelpSae.Tests.Graphs;

/// <summary>
/// The edges block on constructed edges whose statistics are known: weights at a set angle to the truth give r = cos θ,
/// exact and reversed weights give the ends of each scale, edge types are scored apart, and the bootstrap's draws stay
/// bounded however many source nodes there are.
/// </summary>
public class EdgeAgreementTests
{
    /// <summary>
    /// 64 edges over 22 source nodes (three edges each, the last one), truth x and a second vector z, both ±1 patterns with mean zero, orthogonal and of
    /// equal norm, so that w = x·cos θ + z·sin θ has Pearson r = cos θ with x exactly.
    /// </summary>
    private static (double[] Truth, double[] AtAngle, int[] Sources) Constructed(double theta)
    {
        const int n = 64;
        var x = new double[n];
        var z = new double[n];
        var w = new double[n];
        for (int i = 0; i < n; i++)
        {
            x[i] = i % 2 == 0 ? 1 : -1;
            z[i] = i / 2 % 2 == 0 ? 1 : -1;
            w[i] = x[i] * Math.Cos(theta) + z[i] * Math.Sin(theta);
        }
        return (x, w, [.. Enumerable.Range(0, n).Select(i => i / 3)]);
    }

    private static Dictionary<string, EdgeStatistics> ByType(EdgeAgreement a, string method) =>
        a.Methods.Single(m => m.Method == method).ByType.ToDictionary(p => p.Type, p => p.Statistics);

    [Fact]
    public void WeightsAtAnAngleToTheTruthCorrelateAsItsCosine()
    {
        var (truth, atAngle, sources) = Constructed(Math.PI / 3);
        var types = Enumerable.Repeat(EdgeType.FeatureToFeature, truth.Length).ToArray();
        var a = EdgeAgreement.Measure(new EdgeSet(types, sources, truth, new Dictionary<string, double[]>
        {
            ["angle"] = atAngle, ["exact"] = truth, ["reversed"] = [.. truth.Select(v => -v)], ["zero"] = new double[truth.Length],
        }), resamples: 200);

        Assert.Equal(22, a.SourceNodes);
        Assert.Equal(200, a.Resamples);
        var angle = ByType(a, "angle")["all"];
        Assert.Equal(64, angle.Edges);
        Assert.Equal(0.5, angle.Pearson.Value, 12);
        Assert.True(angle.Pearson.Low <= 0.5 && 0.5 <= angle.Pearson.High && angle.Pearson.Low < angle.Pearson.High);
        // sin θ > cos θ: w's sign is z's, which is x's on half the edges.
        Assert.Equal(0.5, angle.SignAgreement.Value);
        Assert.Equal(Agreement.RelativeError(atAngle, truth), angle.RelativeError.Value, 12);

        var exact = ByType(a, "exact")["all"];
        Assert.Equal(new Estimate(1, 1, 1), exact.Pearson with { Value = Math.Round(exact.Pearson.Value, 12), Low = Math.Round(exact.Pearson.Low, 12), High = Math.Round(exact.Pearson.High, 12) });
        Assert.Equal(1, exact.Spearman.Value, 12);
        Assert.Equal(new Estimate(1, 1, 1), exact.SignAgreement);
        Assert.Equal(new Estimate(0, 0, 0), exact.RelativeError);
        var reversed = ByType(a, "reversed")["all"];
        Assert.Equal(-1, reversed.Pearson.Value, 12);
        Assert.Equal(0, reversed.SignAgreement.Value);
        Assert.Equal(2, reversed.RelativeError.Value, 12);
        var zero = ByType(a, "zero")["all"];
        Assert.True(double.IsNaN(zero.Pearson.Value));
        Assert.Equal(1, zero.RelativeError.Value, 12);
    }

    [Fact]
    public void EachEdgeTypeIsScoredOnItsOwnEdges()
    {
        var (truth, _, sources) = Constructed(0);
        // Edges into features are given exactly, edges into logits reversed; no edge leaves an error node.
        var types = truth.Select((_, i) => i % 3 == 0 ? EdgeType.TokenToLogit : i % 3 == 1 ? EdgeType.FeatureToFeature : EdgeType.TokenToFeature).ToArray();
        var weights = truth.Select((v, i) => types[i] == EdgeType.TokenToLogit ? -v : v).ToArray();
        var a = EdgeAgreement.Measure(new EdgeSet(types, sources, truth, new Dictionary<string, double[]> { ["m"] = weights }), resamples: 100);
        var m = ByType(a, "m");

        Assert.Equal(["all", "token_to_feature", "feature_to_feature", "error_to_feature", "token_to_logit", "feature_to_logit", "error_to_logit"], m.Keys);
        Assert.Equal(1, m["token_to_feature"].Pearson.Value, 12);
        Assert.Equal(1, m["feature_to_feature"].Pearson.Value, 12);
        Assert.Equal(-1, m["token_to_logit"].Pearson.Value, 12);
        Assert.Equal(0, m["token_to_logit"].SignAgreement.Value);
        Assert.Equal(Agreement.Pearson(weights, truth), m["all"].Pearson.Value, 12);
        Assert.Equal(truth.Length, m["all"].Edges);
        Assert.Equal(22, m["token_to_logit"].Edges);
        Assert.Equal(0, m["error_to_feature"].Edges);
        Assert.True(double.IsNaN(m["error_to_feature"].Pearson.Value) && double.IsNaN(m["error_to_feature"].RelativeError.High));
    }

    [Fact]
    public void ManySourceNodesGetFewerResamplesNotMoreMemory()
    {
        const int n = 100_000;
        var truth = Enumerable.Range(0, n).Select(i => Math.Sin(i)).ToArray();
        var a = EdgeAgreement.Measure(new EdgeSet(Enumerable.Repeat(EdgeType.FeatureToLogit, n).ToArray(), [.. Enumerable.Range(0, n)], truth,
            new Dictionary<string, double[]> { ["m"] = truth }));
        Assert.Equal(n, a.SourceNodes);
        Assert.Equal((int)(EdgeAgreement.MaxDrawCounts / n), a.Resamples);
        Assert.Equal(1, ByType(a, "m")["all"].Pearson.Value, 12);
    }

    [Fact]
    public void TheBlockUsesTheOtherProtocolsKeys()
    {
        var (truth, atAngle, sources) = Constructed(Math.PI / 3);
        var types = Enumerable.Repeat(EdgeType.ErrorToLogit, truth.Length).ToArray();
        var a = EdgeAgreement.Measure(new EdgeSet(types, sources, truth, new Dictionary<string, double[]> { ["relp"] = atAngle }), resamples: 50);
        using var doc = JsonDocument.Parse(EdgeAgreementJson.Text(a));
        var edges = doc.RootElement.GetProperty("edges");
        Assert.Equal(22, edges.GetProperty("source_nodes").GetInt32());
        Assert.Equal("source node", edges.GetProperty("bootstrap_unit").GetString());
        Assert.Equal(50, edges.GetProperty("resamples").GetInt32());
        var method = edges.GetProperty("methods")[0];
        Assert.Equal("relp", method.GetProperty("name").GetString());
        var all = method.GetProperty("all");
        Assert.Equal(64, all.GetProperty("edges").GetInt32());
        Assert.Equal(0.5, all.GetProperty("pearson").GetDouble(), 12);
        Assert.Equal(2, all.GetProperty("pearson_ci95").GetArrayLength());
        foreach (var key in new[] { "spearman", "sign_agreement", "relative_error" })
            Assert.Equal(JsonValueKind.Array, all.GetProperty(key + "_ci95").ValueKind);
        // An edge type with no edges is written with nulls, not left out.
        Assert.Equal(JsonValueKind.Null, method.GetProperty("token_to_feature").GetProperty("pearson").ValueKind);
        Assert.Equal(0, method.GetProperty("token_to_feature").GetProperty("edges").GetInt32());
    }

    [Fact]
    public void MismatchedLengthsAreRefused()
    {
        var e = Assert.Throws<ArgumentException>(() => EdgeAgreement.Measure(new EdgeSet([EdgeType.TokenToLogit], [0], [1.0],
            new Dictionary<string, double[]> { ["m"] = [1.0, 2.0] })));
        Assert.Contains("method m gives 2 weights for 1 edges", e.Message);
    }

    [Fact]
    public void AnEdgesTypeComesFromItsEnds()
    {
        Assert.Equal(EdgeType.TokenToFeature, EdgeTypes.Of(EdgeSource.ForToken(0), EdgeTarget.FeatureInput(1, 2, 3)));
        Assert.Equal(EdgeType.ErrorToLogit, EdgeTypes.Of(EdgeSource.ForError(1, 0), EdgeTarget.DemeanedLogit(2, 3)));
        Assert.Equal(EdgeType.FeatureToLogit, EdgeTypes.Of(EdgeSource.ForFeature(1, 0, 4), EdgeTarget.Logit(2, 3)));
    }
}
