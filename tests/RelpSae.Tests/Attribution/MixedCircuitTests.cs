using RelpSae.Attribution;
using RelpSae.Model;
using RelpSae.Sae;
using RelpSae.Tests.Model;

namespace RelpSae.Tests.Attribution;

/// <summary>
/// Sparse feature circuits with dictionaries at every kind of site at once — SAEs at residual hooks, attention outputs
/// and MLP outputs, and a transcoder in place of an MLP: the spliced model is the model, node scores are derivatives of
/// its metric, and ablating a node is the activation patch it stands for.
/// </summary>
public class MixedCircuitTests
{
    private const int T = 6;
    private static readonly Metric LogitDiff = new(MetricKind.LogitDiff, 4, 17);
    private static readonly Baseline Corrupt = Baseline.Corrupt(TinyModels.Tokens(1, T, seed: 99));

    /// <summary>Starting at a residual hook (the pass restarts there) or at an attention output (the pass runs from the tokens).</summary>
    public static TheoryData<bool> Starts => new() { true, false };

    /// <summary>
    /// SAEs at blocks.0.hook_resid_pre (when <paramref name="residualFirst"/>), blocks.0.hook_attn_out, blocks.0.hook_resid_post,
    /// blocks.1.hook_attn_out and blocks.1.hook_mlp_out, and a transcoder with a skip connection in place of block 0's MLP,
    /// reading its ln2.hook_normalized.
    /// </summary>
    internal static (Gpt2 Model, MultiSaeSplice Splices) Setup(bool residualFirst = true)
    {
        var model = TinyModels.Create(seed: 4);
        var facts = model.Facts;
        int d = facts.DModel;
        var hooks = new[] { "blocks.0.hook_attn_out", "blocks.0.hook_resid_post", "blocks.1.hook_attn_out", "blocks.1.hook_mlp_out" };
        if (residualFirst) hooks = ["blocks.0.hook_resid_pre", .. hooks];
        var saes = hooks.Select((h, i) => new HookedSae($"sae{i}", AttributionTests.RandomSae(d, 24, seed: 3 + i), facts.ParseHook(h))).ToList();
        var transcoder = TranscoderSpliceTests.RandomTranscoder(d, SaeArchitecture.JumpRelu, "blocks.0.ln2.hook_normalized", "blocks.0.hook_mlp_out", skip: true);
        saes.Add(new HookedSae("transcoder", transcoder.Dictionary, facts.ParseHook("blocks.0.hook_mlp_out"), facts.ParseHook("blocks.0.ln2.hook_normalized")));
        return (model, MultiSaeSplice.Create(model, SaeSet.Check(saes, facts), TinyModels.Tokens(1, T), Corrupt));
    }

    [Theory]
    [MemberData(nameof(Starts))]
    public void SplicingTheMixLeavesTheLogitsUnchangedAndKeepingEveryNodeIsTheModelBitForBit(bool residualFirst)
    {
        var (model, splices) = Setup(residualFirst);
        var nodes = new CircuitNodes(splices.Saes, T, perPosition: true);
        using var plain = model.Forward(splices.Tokens, 1, new RunOptions { Logits = LogitRows.All });
        using var spliced = model.Forward(splices.Tokens, 1, new RunOptions { Logits = LogitRows.All, Rewrite = new CircuitAblation(splices, nodes, [null], reconstructAll: true) });
        var (a, b) = (plain.Logits.ToArray(), spliced.Logits.ToArray());
        double max = a.Max(Math.Abs);
        for (int i = 0; i < a.Length; i++) Assert.True(Math.Abs(a[i] - b[i]) < 1e-5 * (1 + max), $"logit {i}: {a[i]} vs {b[i]}");
        foreach (var s in splices.Splices)
        {
            Assert.Contains(s.Features, f => f > 0);   // every dictionary does split its site
            Assert.Contains(s.Error, e => Math.Abs(e) > 1e-3);
        }

        var all = Enumerable.Repeat(true, nodes.Count).ToArray();
        var m = CircuitAblation.Metrics(model, splices, nodes, [null, all, new bool[nodes.Count]], LogitDiff);
        Assert.Equal(plain.MetricValues(LogitDiff)[0], m[0]);
        Assert.Equal(m[0], m[1]);
        Assert.True(Math.Abs(m[0] - m[2]) > 1e-3, "ablating every node moves the metric");
    }

    /// <summary>
    /// A node's gradient score at a position is the derivative of the spliced model's metric along the node's move from its
    /// baseline: central differences of full passes in which every site is re-split, the node's contribution
    /// ((f − f′)·W_dec of a feature, ε − ε′ of an error node) added at its site, scaled by ±h.
    /// </summary>
    [Fact]
    public void GradientScoresAreFiniteDifferencesOfTheSplicedModelAtEverySite()
    {
        var (model, splices) = Setup();
        var nodes = new CircuitNodes(splices.Saes, T, perPosition: true);
        var scores = NodeAttribution.Run(GradientMethod.Gradient, model, splices, LogitDiff);
        double Metric(HookPoint site, int row, float[] direction, float h)
        {
            var rewrite = new Nudged(new CircuitAblation(splices, nodes, [null], reconstructAll: true), site, row, direction, h);
            using var run = model.Forward(splices.Tokens, 1, new RunOptions { Logits = LogitRows.None, Rewrite = rewrite });
            return run.MetricValues(LogitDiff)[0];
        }
        for (int s = 0; s < splices.Saes.Count; s++)
        {
            var splice = splices.Splices[s];
            int d = splice.Sae.DIn, n = splice.Sae.DSae;
            // Nodes at the last position (a late site reaches the metric only there) and at the first; error nodes coded −1 − position.
            var moved = Enumerable.Range(0, T * n).Where(k => splice.Features[k] != splice.BaselineFeatures[k]).ToList();
            Assert.NotEmpty(moved);
            double largest = 0;
            foreach (int k in moved.TakeLast(2).Prepend(moved[0]).Concat([-1, -T]))
            {
                int t = k < 0 ? -1 - k : k / n, i = k % n;
                var direction = new float[d];
                for (int j = 0; j < d; j++)
                    direction[j] = k < 0 ? splice.Error[t * d + j] - splice.BaselineError[t * d + j]
                        : (splice.Features[k] - splice.BaselineFeatures[k]) * splice.Sae.WDec[i * d + j];
                float h = 1e-3f / Math.Max(1e-2f, direction.Max(MathF.Abs));   // a step of 1e-3 in the largest coordinate
                double numeric = (Metric(splices.Saes[s].Hook, t, direction, h) - Metric(splices.Saes[s].Hook, t, direction, -h)) / (2 * h);
                double analytic = k < 0 ? scores.Hooks[s].ErrorPerPosition[t] : scores.Hooks[s].Score(t, i);
                Assert.True(Math.Abs(numeric - analytic) < 2e-3 + 2e-2 * Math.Abs(numeric), $"{splices.Saes[s].Hook} node {(k < 0 ? "error" : i)}@{t}: {analytic} vs {numeric}");
                largest = Math.Max(largest, Math.Abs(numeric));
            }
            Assert.True(largest > 1e-3, $"no node checked at {splices.Saes[s].Hook} moves the metric");
        }
    }

    /// <summary>Adds h·direction to one row at one hook, after the rewrite under it.</summary>
    private sealed class Nudged(IActivationRewrite inner, HookPoint site, int row, float[] direction, float h) : IActivationRewrite
    {
        public void Apply(HookPoint hook, float[] activation, int batch, int tokens)
        {
            inner.Apply(hook, activation, batch, tokens);
            if (hook != site) return;
            for (int j = 0; j < direction.Length; j++) activation[row * direction.Length + j] += h * direction[j];
        }
    }

    /// <summary>
    /// The coefficients one backward pass records at every site equal each site's own backward pass through the model after
    /// it (<see cref="BranchOutputDownstream"/> for a branch's output), under the exact gradient and the RelP rules.
    /// </summary>
    [Fact]
    public void EachSitesRecordedScoresEqualItsOwnBackwardPass()
    {
        var (model, splices) = Setup();
        foreach (var method in new[] { GradientMethod.Gradient, GradientMethod.RelP })
        {
            var scores = NodeAttribution.Run(method, model, splices, LogitDiff);
            for (int s = 0; s < splices.Saes.Count; s++)
            {
                var alone = Attributor.Run(method, splices.Splices[s], LogitDiff);
                double scale = 1 + alone.Scores.Max(Math.Abs);
                for (int i = 0; i < alone.Scores.Length; i++)
                    Assert.True(Math.Abs(alone.Scores[i] - scores.Hooks[s].Scores[i]) < 1e-5 * scale, $"{method.Name} {splices.Saes[s].Hook} score {i}");
                for (int t = 0; t < T; t++)
                    Assert.True(Math.Abs(alone.ErrorPerPosition[t] - scores.Hooks[s].ErrorPerPosition[t]) < 1e-5 * scale);
                Assert.Contains(alone.Scores, x => Math.Abs(x) > 1e-4);
            }
        }
    }

    /// <summary>
    /// Integrated gradients per site is complete: a site's feature and error scores add up to the metric's move when that
    /// site alone goes from its baseline to its clean activation, and the model after the site gives the model's metric.
    /// </summary>
    [Fact]
    public void IntegratedGradientsAtEachSiteAddUpToThatSitesPatch()
    {
        var (model, splices) = Setup();
        using var run = model.Forward(splices.Tokens, 1, new RunOptions { Logits = LogitRows.None });
        double clean = run.MetricValues(LogitDiff)[0];
        var scores = NodeAttribution.Run(new IntegratedGradients(64), model, splices, LogitDiff);
        for (int s = 0; s < splices.Saes.Count; s++)
        {
            var splice = splices.Splices[s];
            Assert.Equal(clean, splice.MetricAt(splice.Clean, LogitDiff), 1e-5 * (1 + Math.Abs(clean)));
            double delta = Attributor.FullPatchDelta(splice, LogitDiff), total = scores.Hooks[s].Total + scores.Hooks[s].ErrorNode;
            Assert.True(Math.Abs(delta) > 1e-3, $"{splices.Saes[s].Hook}: patching the site moves nothing");
            Assert.True(Math.Abs(total - delta) < 1e-3 * (1 + Math.Abs(delta)), $"{splices.Saes[s].Hook}: {total} vs {delta}");
        }
    }

    /// <summary>
    /// Removing one feature node (summed over positions) of the SAE at an attention output, or of the transcoder, is the
    /// activation patch by hand: the site's clean value minus (f − f′)·W_dec at every position, the rest of the model
    /// untouched; and it is that feature's ground-truth effect.
    /// </summary>
    [Theory]
    [InlineData("blocks.0.hook_attn_out")]
    [InlineData("blocks.0.hook_mlp_out")]
    [InlineData("blocks.1.hook_attn_out")]
    public void RemovingOneFeatureIsTheActivationPatchByHand(string site)
    {
        var (model, splices) = Setup();
        var nodes = new CircuitNodes(splices.Saes, T, perPosition: false);
        int s = splices.Saes.Select(x => x.Hook.Name).ToList().IndexOf(site);
        var splice = splices.Splices[s];
        int d = splice.Sae.DIn, n = splice.Sae.DSae;
        int feature = Enumerable.Range(0, n).MaxBy(i => Enumerable.Range(0, T).Sum(t => Math.Abs(splice.Features[t * n + i] - splice.BaselineFeatures[t * n + i])));
        var keep = Enumerable.Repeat(true, nodes.Count).ToArray();
        keep[nodes.Index(s, feature, 0)] = false;
        var m = CircuitAblation.Metrics(model, splices, nodes, [null, keep], LogitDiff);

        var patched = (float[])splice.Clean.Clone();
        for (int t = 0; t < T; t++)
            for (int j = 0; j < d; j++)
                patched[t * d + j] -= (splice.Features[t * n + feature] - splice.BaselineFeatures[t * n + feature]) * splice.Sae.WDec[feature * d + j];
        using var byHand = model.Forward(splices.Tokens, 1, new RunOptions
        {
            Logits = LogitRows.None, Patches = [.. Enumerable.Range(0, T).Select(t => new ActivationPatch(splices.Saes[s].Hook, t, 0, patched.AsMemory(t * d, d)))],
        });
        double expected = byHand.MetricValues(LogitDiff)[0];
        Assert.True(Math.Abs(m[0] - expected) > 1e-4, "the feature moves the metric");
        Assert.True(Math.Abs(m[1] - expected) < 1e-5 * (1 + Math.Abs(expected)), $"{m[1]} vs {expected}");
        // The single-feature ground truth, run through the model after the site alone, is the same patch.
        double truth = new GroundTruth().Effects(splice, LogitDiff, [feature])[0];
        Assert.True(Math.Abs(m[0] - m[1] - truth) < 1e-5 * (1 + Math.Abs(truth)), $"{m[0] - m[1]} vs ground truth {truth}");
    }

    /// <summary>
    /// Other families: Llama's and Gemma's transcoders write mlp.hook_out (on Gemma before the post-feedforward norm, whose
    /// coefficient the one backward pass does not record: that site takes its own), and GPT-NeoX adds attention's output in
    /// parallel with the MLP's, into resid_post. The recorded scores equal each site's own backward pass, and keeping every
    /// node is the model bit for bit.
    /// </summary>
    [Theory]
    [InlineData("stories260K-llama", HookKind.ResidMid, HookKind.MlpHookOut)]
    [InlineData("tiny-gemma2", HookKind.MlpHookIn, HookKind.MlpHookOut)]
    [InlineData("tiny-neox", HookKind.ResidPre, HookKind.MlpOut)]
    public void EveryFamilysMixScoresAsEachSiteAloneAndKeepsTheModel(string folder, HookKind input, HookKind output)
    {
        var model = Families.Named(folder).Load();
        var facts = model.Facts;
        int d = facts.DModel, l = facts.NLayers - 1;
        var transcoder = TranscoderSpliceTests.RandomTranscoder(d, SaeArchitecture.JumpRelu, new HookPoint(input, l).Name, new HookPoint(output, l).Name, skip: false);
        var saes = SaeSet.Check(
        [
            new HookedSae("attn", AttributionTests.RandomSae(d, 24, seed: 3), new HookPoint(HookKind.AttnOut, 0)),
            new HookedSae("transcoder", transcoder.Dictionary, new HookPoint(output, l), new HookPoint(input, l)),
            new HookedSae("resid", AttributionTests.RandomSae(d, 24, seed: 4), new HookPoint(HookKind.ResidPost, 0)),
        ], facts);
        var prompt = TranscoderSpliceTests.Prompt;
        var metric = new Metric(MetricKind.LogProb, Target: 3);
        var splices = MultiSaeSplice.Create(model, saes, prompt, Baseline.Corrupt([.. prompt.Reverse()]));
        foreach (var method in new[] { GradientMethod.Gradient, GradientMethod.RelP })
        {
            var scores = NodeAttribution.Run(method, model, splices, metric);
            for (int s = 0; s < saes.Count; s++)
            {
                var alone = Attributor.Run(method, splices.Splices[s], metric);
                double scale = 1 + alone.Scores.Max(Math.Abs);
                for (int i = 0; i < alone.Scores.Length; i++)
                    Assert.True(Math.Abs(alone.Scores[i] - scores.Hooks[s].Scores[i]) < 1e-4 * scale, $"{method.Name} {saes[s].Hook} score {i}: {scores.Hooks[s].Scores[i]} vs {alone.Scores[i]}");
                Assert.Contains(alone.Scores, x => Math.Abs(x) > 1e-6);
            }
        }
        var nodes = new CircuitNodes(saes, prompt.Length, perPosition: false);
        using var run = model.Forward(prompt, 1, new RunOptions { Logits = LogitRows.None });
        var m = CircuitAblation.Metrics(model, splices, nodes, [Enumerable.Repeat(true, nodes.Count).ToArray(), new bool[nodes.Count]], metric);
        Assert.Equal(run.MetricValues(metric)[0], m[0]);
        Assert.NotEqual(m[0], m[1]);
    }
}
