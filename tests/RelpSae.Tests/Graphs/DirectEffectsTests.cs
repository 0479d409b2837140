using System.Numerics.Tensors;
using RelpSae.Attribution;
using RelpSae.Graphs;
using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Tests.Graphs;

/// <summary>
/// The true direct effects of graph edges: in every family they are what plain one-source patched runs with every node
/// held give; removing nothing (or an inactive feature) moves nothing, and nothing moves upstream of a source; the last
/// layer's effects on the logits are a hand computation through the final norm; a small removal's effect over its size is
/// the exact gradient's edge a_s·∂t/∂a_s.
/// </summary>
public class DirectEffectsTests
{
    public static TheoryData<string> AllFamilies => Families.Folders();

    [Theory]
    [MemberData(nameof(AllFamilies))]
    public void EffectsAreWhatPlainPatchedRunsWithEveryNodeHeldGive(string folder)
    {
        var f = new GraphFixture(folder);
        var sources = f.Sources();
        var targets = f.Targets();
        // Two sequences a pass: passes start at several blocks.
        var effects = DirectEffects.Measure(f.Model, GraphFixture.Prompt, f.Splices, sources, targets, sequencesPerPass: 2);
        bool moved = false;
        for (int s = 0; s < sources.Length; s++)
        {
            var (clean, ablated) = PatchedReference.Values(f, sources[s], targets);
            for (int t = 0; t < targets.Length; t++)
            {
                double expected = clean[t] - ablated[t];
                Assert.True(Math.Abs(effects[s, t] - expected) <= 2e-5 * (1 + Math.Abs(clean[t])), $"{sources[s]} → {targets[t]}: {effects[s, t]} vs {expected}");
                Assert.True(Math.Abs(effects.Clean[t] - clean[t]) <= 2e-5 * (1 + Math.Abs(clean[t])), $"{targets[t]}: clean {effects.Clean[t]} vs {clean[t]}");
                moved |= Math.Abs(expected) > 1e-2;
                if (Upstream(sources[s], targets[t])) Assert.Equal(0.0, effects[s, t]);
            }
        }
        Assert.True(moved, "no source moved any target");
    }

    /// <summary>A target its source cannot reach: at an earlier position, or read before the source's layer writes.</summary>
    private static bool Upstream(EdgeSource s, EdgeTarget t) =>
        t.Position < s.Position || t.Kind == TargetKind.FeatureInput && s.Kind != SourceKind.Token && t.Layer <= s.Layer;

    [Theory]
    [InlineData("tarot-gpt2")]
    [InlineData("stories260K-llama")]
    [InlineData("tiny-neox")]
    public void WithASkipConnectionItsLinearPathStaysLive(string folder)
    {
        var f = new GraphFixture(folder, skip: true);
        var sources = new[] { EdgeSource.ForToken(1), EdgeSource.ForFeature(0, 1, f.Feature(0, 1)), EdgeSource.ForError(0, f.Last) };
        var targets = f.Targets();
        var effects = DirectEffects.Measure(f.Model, GraphFixture.Prompt, f.Splices, sources, targets);
        for (int s = 0; s < sources.Length; s++)
        {
            var (clean, ablated) = PatchedReference.Values(f, sources[s], targets);
            for (int t = 0; t < targets.Length; t++)
                Assert.True(Math.Abs(effects[s, t] - (clean[t] - ablated[t])) <= 2e-5 * (1 + Math.Abs(clean[t])),
                    $"{sources[s]} → {targets[t]}: {effects[s, t]} vs {clean[t] - ablated[t]}");
        }
    }

    [Theory]
    [InlineData("tarot-gpt2", 1)]
    [InlineData("tarot-gpt2", 0)]
    [InlineData("tiny-gemma2", 3)]
    [InlineData("tiny-neox-seq", 1)]
    public void RemovingNothingMovesNothing(string folder, int sequencesPerPass)
    {
        var f = new GraphFixture(folder);
        var sources = f.Sources();
        var none = DirectEffects.Measure(f.Model, GraphFixture.Prompt, f.Splices, sources, f.Targets(), scale: 0, sequencesPerPass);
        Assert.All(none.Values, v => Assert.Equal(0.0, v));

        var inactive = EdgeSource.ForFeature(f.Layers - 1, 2, f.Feature(f.Layers - 1, 2, active: false));
        var idle = DirectEffects.Measure(f.Model, GraphFixture.Prompt, f.Splices, [inactive, EdgeSource.ForToken(0)], f.Targets(), sequencesPerPass: 1);
        Assert.All(Enumerable.Range(0, idle.Targets.Count), t => Assert.Equal(0.0, idle[0, t]));
        Assert.Contains(Enumerable.Range(0, idle.Targets.Count), t => idle[1, t] != 0);
    }

    /// <summary>
    /// GPT-2's last layer feeds the logits through ln_f alone: logit_v(x) = (x − mean x)/σ(x) · γ · W_U[v] + β·W_U[v], with
    /// σ(x) = √(var x + 10⁻⁵), so removing v_s from the final residual x moves it by exactly the difference of that read at x
    /// and at x − v_s (β's term cancels), read here through the model's folded unembedding (DirectionLogits).
    /// </summary>
    [Fact]
    public void LastLayerEffectsOnTheLogitsAreTheFinalNormByHand()
    {
        var f = new GraphFixture("tarot-gpt2");
        int L = f.Layers, d = f.Model.Facts.DModel, V = f.Model.Facts.VocabSize;
        var sources = new[] { EdgeSource.ForFeature(L - 1, 1, f.Feature(L - 1, 1)), EdgeSource.ForError(L - 1, f.Last), EdgeSource.ForFeature(L - 1, f.Last, f.Feature(L - 1, f.Last)) };
        var targets = new[] { EdgeTarget.Logit(1, 3), EdgeTarget.Logit(f.Last, 3), EdgeTarget.Logit(f.Last, 17), EdgeTarget.DemeanedLogit(f.Last, 17) };
        var effects = DirectEffects.Measure(f.Model, GraphFixture.Prompt, f.Splices, sources, targets);
        var final = f.Model.ActivationAt(new HookPoint(HookKind.ResidPost, L - 1), GraphFixture.Prompt, 1);

        float[] Read(float[] x)
        {
            float mean = TensorPrimitives.Sum(x) / d, variance = 0;
            foreach (var v in x) variance += (v - mean) * (v - mean);
            var normed = new float[d];
            TensorPrimitives.Multiply(x, 1 / MathF.Sqrt(variance / d + 1e-5f), normed);
            return f.Model.DirectionLogits(normed, 1);
        }

        for (int s = 0; s < sources.Length; s++)
        {
            int p = sources[s].Position;
            var x = final[(p * d)..((p + 1) * d)];
            var (_, vector) = PatchedReference.Vector(f, sources[s]);
            var before = Read(x);
            var after = Read([.. x.Zip(vector, (a, b) => a - b)]);
            for (int t = 0; t < targets.Length; t++)
            {
                var target = targets[t];
                double expected = target.Position != p ? 0 : before[target.Index] - after[target.Index];
                if (target.Position == p && target.Kind == TargetKind.DemeanedLogit) expected -= (before.Sum(v => (double)v) - after.Sum(v => (double)v)) / V;
                Assert.True(Math.Abs(effects[s, t] - expected) <= 1e-4 * (1 + Math.Abs(expected)), $"{sources[s]} → {target}: {effects[s, t]} vs {expected}");
            }
        }
        Assert.Contains(effects.Values, v => Math.Abs(v) > 1e-2);
    }

    /// <summary>
    /// The exact backward pass gives the last layer's edges to the logits, g·v_s with g = ∂logit/∂hook_mlp_out: removing
    /// ±ε of each source moves each logit by ±ε times that, to second order (the central difference), and so to first.
    /// </summary>
    [Theory]
    [MemberData(nameof(AllFamilies))]
    public void ASmallRemovalOverItsSizeIsTheGradientEdge(string folder)
    {
        var f = new GraphFixture(folder);
        int L = f.Layers, d = f.Model.Facts.DModel;
        var sources = new[] { EdgeSource.ForFeature(L - 1, 1, f.Feature(L - 1, 1)), EdgeSource.ForError(L - 1, 1), EdgeSource.ForFeature(L - 1, f.Last, f.Feature(L - 1, f.Last)), EdgeSource.ForError(L - 1, f.Last) };
        var targets = new[] { EdgeTarget.Logit(1, 3), EdgeTarget.Logit(f.Last, 3), EdgeTarget.Logit(f.Last, 5) };
        const float h = 1e-2f;
        var plus = DirectEffects.Measure(f.Model, GraphFixture.Prompt, f.Splices, sources, targets, scale: h);
        var minus = DirectEffects.Measure(f.Model, GraphFixture.Prompt, f.Splices, sources, targets, scale: -h);
        var small = DirectEffects.Measure(f.Model, GraphFixture.Prompt, f.Splices, sources, targets, scale: h / 10);

        var output = f.Splices[L - 1].OutputHook;
        using var clean = f.Model.Forward(GraphFixture.Prompt, 1, new RunOptions { KeepForBackward = true, Logits = LogitRows.None });
        var edges = new double[sources.Length, targets.Length];
        double largest = 0;
        for (int t = 0; t < targets.Length; t++)
        {
            var g = clean.Backward(new Metric(MetricKind.Logit, targets[t].Index, Position: targets[t].Position), output, PropagationRules.Gradient);
            for (int s = 0; s < sources.Length; s++)
            {
                int p = sources[s].Position;
                edges[s, t] = TensorPrimitives.Dot(g.AsSpan(p * d, d), PatchedReference.Vector(f, sources[s]).Vector);
                largest = Math.Max(largest, Math.Abs(edges[s, t]));
            }
        }
        Assert.True(largest > 1e-3, "every edge is zero");
        for (int s = 0; s < sources.Length; s++)
            for (int t = 0; t < targets.Length; t++)
            {
                double central = (plus[s, t] - minus[s, t]) / (2 * h), forward = small[s, t] / (h / 10);
                Assert.True(Math.Abs(central - edges[s, t]) <= 1e-3 * largest, $"{sources[s]} → {targets[t]}: central {central} vs {edges[s, t]}");
                Assert.True(Math.Abs(forward - edges[s, t]) <= 1e-2 * largest, $"{sources[s]} → {targets[t]}: forward {forward} vs {edges[s, t]}");
            }
    }

    /// <summary>
    /// Deeper edges, through live attention and norms with MLPs held, have no exact backward to compare with: their slope
    /// by central differences (±ε removed) is that of the plain patched runs (<see cref="PatchedReference"/>, a separate
    /// implementation) taken with another step, to the steps' second-order error. Random transcoders' error nodes are large,
    /// so the one-sided quotient, first order in ε, would need steps below float resolution to get as close.
    /// </summary>
    [Theory]
    [InlineData("stories260K-llama")]
    [InlineData("tarot-gpt2")]
    [InlineData("tiny-gemma2")]
    public void ASmallRemovalOverItsSizeIsTheSlopeOfThePlainPatchedRuns(string folder)
    {
        var f = new GraphFixture(folder);
        var sources = new[] { EdgeSource.ForToken(1), EdgeSource.ForFeature(0, 1, f.Feature(0, 1)), EdgeSource.ForError(0, 1) };
        var targets = f.Targets();
        const float e = 1e-3f, h = 2e-3f;
        var plus = DirectEffects.Measure(f.Model, GraphFixture.Prompt, f.Splices, sources, targets, scale: e);
        var minus = DirectEffects.Measure(f.Model, GraphFixture.Prompt, f.Splices, sources, targets, scale: -e);
        var slopes = new double[sources.Length, targets.Length];
        double largest = 0;
        for (int s = 0; s < sources.Length; s++)
        {
            var (_, removed) = PatchedReference.Values(f, sources[s], targets, h);
            var (_, added) = PatchedReference.Values(f, sources[s], targets, -h);
            for (int t = 0; t < targets.Length; t++)
                largest = Math.Max(largest, Math.Abs(slopes[s, t] = (added[t] - removed[t]) / (2 * h)));
        }
        Assert.True(largest > 1e-2, "every slope is zero");
        for (int s = 0; s < sources.Length; s++)
            for (int t = 0; t < targets.Length; t++)
            {
                double central = (plus[s, t] - minus[s, t]) / (2 * e);
                Assert.True(Math.Abs(central - slopes[s, t]) <= 3e-3 * largest, $"{sources[s]} → {targets[t]}: {central} vs {slopes[s, t]}");
            }
    }

    [Fact]
    public void NodesOutsideThePromptOrModelAreRefusedInOneLine()
    {
        var f = new GraphFixture("tiny-qwen2");
        var prompt = GraphFixture.Prompt;
        RelpSaeException Refused(IReadOnlyList<TranscoderSplice> splices, EdgeSource source, EdgeTarget target) =>
            Assert.Throws<RelpSaeException>(() => DirectEffects.Measure(f.Model, prompt, splices, [source], [target]));
        var ok = EdgeTarget.Logit(f.Last, 1);
        Assert.Contains("a transcoder at every layer: 1 given for a model of 2 layers", Refused([f.Splices[0]], EdgeSource.ForToken(0), ok).Message);
        Assert.Contains("the transcoder given for layer 0 writes blocks.1.hook_mlp_out", Refused([f.Splices[1], f.Splices[0]], EdgeSource.ForToken(0), ok).Message);
        Assert.Contains("source token@6 is at position 6, outside the prompt's 6 tokens", Refused(f.Splices, EdgeSource.ForToken(6), ok).Message);
        Assert.Contains("source error L2@0 is at layer 2; the model has layers 0..1", Refused(f.Splices, EdgeSource.ForError(2, 0), ok).Message);
        Assert.Contains("names feature 96; layer 1's transcoder has features 0..95", Refused(f.Splices, EdgeSource.ForFeature(1, 0, 96), ok).Message);
        Assert.Contains("target logit[64]@5 names token id 64, outside the vocabulary (0..63)", Refused(f.Splices, EdgeSource.ForToken(0), EdgeTarget.Logit(5, 64)).Message);
        Assert.Contains("is at position -1, outside the prompt's 6 tokens", Refused(f.Splices, EdgeSource.ForToken(0), EdgeTarget.FeatureInput(0, -1, 0)).Message);
        Assert.Contains("names feature -3; layer 0's transcoder", Refused(f.Splices, EdgeSource.ForToken(0), EdgeTarget.FeatureInput(0, 0, -3)).Message);
    }
}
