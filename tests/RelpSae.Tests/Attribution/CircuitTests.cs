using RelpSae.Attribution;
using RelpSae.Model;
using RelpSae.Sae;
using RelpSae.Tests.Model;
using RelpSae.Tests.Sae;

namespace RelpSae.Tests.Attribution;

/// <summary>Several SAEs spliced at once: splicing is exact, node scores match single-SAE scores, circuit ablation and its curves.</summary>
public class CircuitTests
{
    internal const int T = 6;
    internal static readonly Metric LogitDiff = new(MetricKind.LogitDiff, 4, 17);
    internal static readonly string[] Hooks = ["blocks.0.hook_resid_post", "blocks.1.hook_resid_mid", "blocks.1.hook_resid_post"];

    internal static IReadOnlyList<HookedSae> Saes(Gpt2 model, params string[] hooks) => SaeSet.Check(
        hooks.Select((h, i) => new HookedSae($"sae{i}", AttributionTests.RandomSae(model.Config.DModel, 24, seed: 3 + i), model.Facts.ParseHook(h))).ToList(),
        model.Facts);

    private static (Gpt2 Model, MultiSaeSplice Splices) Setup(params string[] hooks)
    {
        var model = TinyModels.Create(seed: 4);
        var saes = Saes(model, hooks.Length == 0 ? Hooks : hooks);
        return (model, MultiSaeSplice.Create(model, saes, TinyModels.Tokens(1, T), Baseline.Corrupt(TinyModels.Tokens(1, T, seed: 99))));
    }

    [Fact]
    public void SplicingEverySaeLeavesTheLogitsUnchanged()
    {
        var (model, splices) = Setup();
        var nodes = new CircuitNodes(splices.Saes, T, perPosition: false);
        var rewrite = new CircuitAblation(splices, nodes, [null], reconstructAll: true);
        using var plain = model.Forward(splices.Tokens, 1, new RunOptions { Logits = LogitRows.All });
        using var spliced = model.Forward(splices.Tokens, 1, new RunOptions { Logits = LogitRows.All, Rewrite = rewrite });
        var (a, b) = (plain.Logits.ToArray(), spliced.Logits.ToArray());
        double max = a.Max(Math.Abs);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) < 1e-5 * (1 + max), $"logit {i}: {a[i]} vs {b[i]}");
        Assert.Contains(splices.Splices[0].Features, f => f > 0);   // the SAEs do split the activations
        Assert.Contains(splices.Splices[0].Error, e => Math.Abs(e) > 1e-3);
    }

    [Fact]
    public void KeepingEveryNodeGivesFaithfulnessOneAndKeepingNoneZeroExactly()
    {
        var (model, splices) = Setup();
        var patching = new CircuitPatching(model, [GradientMethod.Gradient, GradientMethod.RelP], perPosition: false);
        var record = patching.Evaluate(0, "p", splices, LogitDiff, "corrupt", 0);
        Assert.Equal(3 * 25, record.Nodes);
        Assert.Equal([1, 2, 4, 8, 16, 32, 64, 75], record.Grid);
        foreach (var (method, c) in record.Curves)
        {
            Assert.True(Math.Abs(c.Model - c.Empty) > 1e-3, "ablating every node moves the metric");
            Assert.Equal(c.Model, c.Kept[^1]);     // every node kept: the model, bit for bit
            Assert.Equal(c.Empty, c.Removed[^1]);  // every node removed: none kept
            var s = CircuitSummary.Summarize(method, [record], resamples: 0);
            Assert.Equal(1.0, s.Faithfulness[^1]);
            Assert.Equal(0.0, s.Completeness[^1]);
        }
        var nodes = new CircuitNodes(splices.Saes, T, perPosition: true);
        var m = CircuitAblation.Metrics(model, splices, nodes, [null, new bool[nodes.Count], Enumerable.Repeat(true, nodes.Count).ToArray()], LogitDiff);
        Assert.Equal(m[0], m[2]);
        Assert.NotEqual(m[0], m[1]);
    }

    /// <summary>
    /// Ablation starts at the first SAE's hook from the clean activation: the same metrics, bit for bit, as
    /// the pass from token ids with the rewrite at every hook, whichever residual hook comes first.
    /// </summary>
    [Theory]
    [InlineData("blocks.1.hook_resid_pre", "blocks.1.hook_resid_post")]
    [InlineData("blocks.1.hook_resid_mid")]
    [InlineData("blocks.0.hook_resid_post", "blocks.1.hook_resid_mid")]
    public void StartingAtTheFirstHookIsTheFullPassBitForBit(params string[] hooks)
    {
        var (model, splices) = Setup(hooks);
        var nodes = new CircuitNodes(splices.Saes, T, perPosition: true);
        var rng = new Random(5);
        var masks = new List<bool[]?> { null, new bool[nodes.Count] };
        for (int i = 0; i < 4; i++) masks.Add(Enumerable.Range(0, nodes.Count).Select(_ => rng.Next(3) > 0).ToArray());
        var fromHook = CircuitAblation.Metrics(model, splices, nodes, masks, LogitDiff);

        var tokens = Enumerable.Repeat(splices.Tokens, masks.Count).SelectMany(t => t).ToArray();
        using var full = model.Forward(tokens, masks.Count, new RunOptions { Logits = LogitRows.None, Rewrite = new CircuitAblation(splices, nodes, masks, reconstructAll: false) });
        Assert.Equal(full.MetricValues(LogitDiff), fromHook);
        Assert.Equal(fromHook.Length, fromHook.Distinct().Count());   // every circuit moves the metric differently
    }

    /// <summary>With one SAE, removing one feature node is the single-feature ground truth: the feature moved to its baseline at every position, the error node held.</summary>
    [Fact]
    public void RemovingOneFeatureNodeIsTheSingleFeaturePatch()
    {
        var (model, splices) = Setup("blocks.1.hook_resid_pre");
        var splice = splices.Splices[0];
        var nodes = new CircuitNodes(splices.Saes, T, perPosition: false);
        var features = GroundTruth.ActiveFeatures(splice);
        var truth = new GroundTruth().Effects(splice, LogitDiff, features);
        var masks = new List<bool[]?> { null };
        foreach (int f in features)
        {
            var keep = Enumerable.Repeat(true, nodes.Count).ToArray();
            keep[nodes.Index(0, f, 0)] = false;
            masks.Add(keep);
        }
        var m = CircuitAblation.Metrics(model, splices, nodes, masks, LogitDiff);
        for (int i = 0; i < features.Length; i++)
            Assert.True(Math.Abs(m[0] - m[i + 1] - truth[i]) < 1e-4 * (1 + Math.Abs(truth[i])), $"feature {features[i]}: {m[0] - m[i + 1]} vs {truth[i]}");
        Assert.Contains(truth, t => Math.Abs(t) > 1e-3);
    }

    /// <summary>The coefficient at each hook comes from one backward pass of the whole model; it equals each SAE attributed alone.</summary>
    [Fact]
    public void EachHooksNodeScoresEqualThatSaeAttributedAlone()
    {
        var (model, splices) = Setup();
        foreach (var method in new IAttributionMethod[] { GradientMethod.Gradient, GradientMethod.RelP, GradientMethod.AttnLrp, new IntegratedGradients(4) })
        {
            var scores = NodeAttribution.Run(method, model, splices, LogitDiff);
            for (int h = 0; h < splices.Saes.Count; h++)
            {
                var alone = SaeSplice.Create(model, splices.Saes[h].Sae, splices.Saes[h].Hook, splices.Tokens, Baseline.Corrupt(TinyModels.Tokens(1, T, seed: 99)));
                var single = Attributor.Run(method, alone, LogitDiff);
                var multi = scores.Hooks[h];
                double scale = 1 + single.Scores.Max(Math.Abs);
                for (int i = 0; i < single.Scores.Length; i++)
                    Assert.True(Math.Abs(single.Scores[i] - multi.Scores[i]) < 1e-5 * scale, $"{method.Name} {splices.Saes[h].Hook} score {i}: {multi.Scores[i]} vs {single.Scores[i]}");
                for (int t = 0; t < T; t++)
                    Assert.True(Math.Abs(single.ErrorPerPosition[t] - multi.ErrorPerPosition[t]) < 1e-5 * scale);
                Assert.Contains(single.Scores, s => Math.Abs(s) > 1e-4);
            }
        }
    }

    [Fact]
    public void NodesNumberFeaturesThenTheErrorNodeSaeBySae()
    {
        var (_, splices) = Setup();
        foreach (bool perPosition in new[] { false, true })
        {
            var nodes = new CircuitNodes(splices.Saes, T, perPosition);
            Assert.Equal(3 * 25 * (perPosition ? T : 1), nodes.Count);
            var seen = new HashSet<CircuitNode>();
            for (int i = 0; i < nodes.Count; i++)
            {
                var node = nodes.Node(i);
                int h = splices.Saes.Select(s => s.Hook).ToList().IndexOf(node.Hook);
                Assert.Equal(i, nodes.Index(h, node.IsError ? 24 : node.Feature, Math.Max(0, node.Position)));
                Assert.True(seen.Add(node));
            }
        }
        Assert.Equal("blocks.1.hook_resid_mid/error@2", new CircuitNode(splices.Saes[1].Hook, -1, 2).ToString());
    }

    [Fact]
    public void AreasAndTheFirstNReachingTheThresholdFollowTheCurve()
    {
        int[] grid = [1, 2, 4, 8];
        Assert.Equal(1.0, CircuitSummary.Area(grid, [1, 1, 1, 1]), 12);
        Assert.Equal(0.0, CircuitSummary.Area(grid, [0, 0, 0, 0]), 12);
        // Trapezoids of equal width in log n: (0 + 0.5)/2, (0.5 + 1)/2, (1 + 1)/2 over three steps.
        Assert.Equal((0.25 + 0.75 + 1) / 3, CircuitSummary.Area(grid, [0, 0.5, 1, 1]), 12);
        Assert.Equal(4, CircuitSummary.FirstReaching(grid, [0, 0.5, 0.8, 1]));
        Assert.True(double.IsNaN(CircuitSummary.FirstReaching(grid, [0, 0.5, 0.7, 0.79])));
        Assert.Equal([1, 2, 4, 5], CircuitEvaluation.GridFor(5));
        Assert.Equal([1], CircuitEvaluation.GridFor(1));
    }

    /// <summary>F is a ratio of sums over prompts; a prompt with fewer nodes (shorter, per position) keeps all of them at larger n.</summary>
    [Fact]
    public void CurvesPoolPromptsOfDifferentNodeCounts()
    {
        CircuitEvaluation Record(int nodes, double model, double empty, double[] kept, double[] removed) => new(0, "p", "logit", "corrupt", ["h"], true, nodes,
            CircuitEvaluation.GridFor(nodes), new Dictionary<string, CircuitCurve> { ["m"] = new(model, empty, kept, removed, 0, 0) }, 0);
        var small = Record(3, model: 2, empty: 0, kept: [1, 1.5, 2], removed: [1, 0.5, 0]);        // grid 1, 2, 3
        var large = Record(5, model: 4, empty: 1, kept: [1, 2, 3.5, 4], removed: [3, 2, 1.5, 1]);  // grid 1, 2, 4, 5
        var s = CircuitSummary.Summarize("m", [small, large], resamples: 0);
        Assert.Equal([1, 2, 4, 5], s.Grid);
        // n = 1: (1 − 0) + (1 − 1) over (2 − 0) + (4 − 1); n = 4: the small prompt keeps its 3 nodes (2 − 0), the large 3.5 − 1.
        Assert.Equal(new[] { 1 / 5.0, 2.5 / 5, 4.5 / 5, 1 }, s.Faithfulness);
        Assert.Equal(new[] { 3 / 5.0, 1.5 / 5, 0.5 / 5, 0 }, s.Completeness);
    }

    [Fact]
    public void BadSaeSetsAreOneLineErrors()
    {
        var model = TinyModels.Create(seed: 4);
        var c = model.Facts;
        var wide = new HookedSae("wide", AttributionTests.RandomSae(c.DModel + 1, 24, 1), c.ParseHook("blocks.0.hook_resid_post"));
        var e = Assert.Throws<RelpSaeException>(() => SaeSet.Check([wide], c));
        Assert.Equal($"wide: the SAE is {c.DModel + 1} wide but blocks.0.hook_resid_post holds {c.DModel} values a position (n_embd)", e.Message);
        var twice = Saes(model, "blocks.0.hook_resid_post").Concat(Saes(model, "blocks.0.hook_resid_post")).ToList();
        e = Assert.Throws<RelpSaeException>(() => SaeSet.Check(twice, c));
        Assert.Equal("two dictionaries replace blocks.0.hook_resid_post: sae0 and sae0; splice at most one per site", e.Message);
    }
}
