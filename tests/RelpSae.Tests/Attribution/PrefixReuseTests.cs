using RelpSae.Attribution;
using RelpSae.Lrp;
using RelpSae.Model;
using RelpSae.Tests.Model;

namespace RelpSae.Tests.Attribution;

/// <summary>
/// Feature and component ground truth, which run each batch from its first changed position on the
/// clean run's earlier rows (<see cref="CleanPrefix"/>), equal passes that recompute every row. The
/// corrupted prompt shares the prompt's first nine tokens, so the batches reuse the first 8 rows (their
/// first changed row, ≥ 9, rounded down to a multiple of 8). Every family runs attention on the full
/// pass's shapes there (<see cref="CleanPrefixAttention"/>), so the effects are equal bit for bit.
/// </summary>
public class PrefixReuseTests
{
    private const int T = 16, Shared = 9;
    private static readonly Metric LogitDiff = new(MetricKind.LogitDiff, Target: 3, Foil: 11);

    public static TheoryData<string> Models => Families.Folders();

    private static ITransformer Load(string name) => Families.Named(name).Load();

    private static (int[] Clean, int[] Corrupt) Prompts()
    {
        var clean = TinyModels.Tokens(1, T, seed: 7);
        var corrupt = TinyModels.Tokens(1, T, seed: 8);
        clean.AsSpan(0, Shared).CopyTo(corrupt);
        return (clean, corrupt);
    }

    /// <summary>The same downstream model without its prefix reuse: every row of every pass computed.</summary>
    private sealed class EveryRow(IDownstream inner) : IDownstream
    {
        public double[] Metric(float[] activations, int batch, int tokens, Metric metric) => inner.Metric(activations, batch, tokens, metric);

        public float[] Backward(float[] activations, int batch, int tokens, Metric metric, PropagationRules rules) =>
            inner.Backward(activations, batch, tokens, metric, rules);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void FeatureEffectsEqualFullRecomputation(string name)
    {
        var model = Load(name);
        var hook = new HookPoint(HookKind.ResidPre, 1);
        var (tokens, corrupt) = Prompts();
        var sae = AttributionTests.RandomSae(model.Facts.DModel, 48, seed: 5);
        var reused = SaeSplice.Create(model, sae, hook, tokens, Baseline.Corrupt(corrupt));
        var full = SaeSplice.FromActivations(new EveryRow(new TransformerDownstream(model, hook)), sae, reused.Clean, Baseline.Corrupt(corrupt),
            reused.BaselineActivation);
        var features = GroundTruth.ActiveFeatures(reused);
        var truth = new GroundTruth(batchSize: 5);
        double largest = 0;
        foreach (int? position in new int?[] { null, Shared, T - 1 })
        {
            var expected = truth.Effects(full, LogitDiff, features, position);
            var actual = truth.Effects(reused, LogitDiff, features, position);
            for (int i = 0; i < features.Length; i++)
                Assert.True(expected[i] == actual[i], $"feature {features[i]} at {position}: {actual[i]} vs {expected[i]}");
            largest = Math.Max(largest, actual.Max(Math.Abs));
        }
        Assert.True(largest > 1e-4, "no feature moves the metric: the test checks nothing");
    }

    /// <summary>
    /// A full pass gives a patch that leaves the residual stream's bits unchanged an effect of exactly 0;
    /// a pass from a later row must too (its kernels run on other shapes, so it measures against the clean
    /// prompt run beside the patches), or rounding noise of random sign would count in sign agreement.
    /// On the embedded model and SAE, over contrastive prompts, the exact zeros and the signs agree.
    /// </summary>
    [Fact]
    public void ExactZerosAndSignsMatchFullRecomputationOnTheEmbeddedModel()
    {
        var model = LanguageModels.Load(RelpSae.Cli.CliDefaults.EmbeddedModel);
        var tokenizer = RelpSae.Text.Gpt2Tokenizer.Load(RelpSae.Cli.CliDefaults.EmbeddedModel);
        var sae = RelpSae.Sae.SaeFiles.Load(RelpSae.Cli.CliDefaults.EmbeddedSae);
        var hook = model.Facts.ParseHook(sae.Config.HookName!);
        var metric = new Metric(MetricKind.LogitDiff, Target: 388, Foil: 5);
        var truth = new GroundTruth();
        int zeros = 0;
        foreach (var c in RelpSae.Prompts.ContrastivePrompts.Generate(12))
        {
            var (tokens, corrupt) = (tokenizer.Encode(c.Prompt), tokenizer.Encode(c.Corrupt!));
            var reused = SaeSplice.Create(model, sae, hook, tokens, Baseline.Corrupt(corrupt));
            var full = SaeSplice.FromActivations(new EveryRow(new TransformerDownstream(model, hook)), sae, reused.Clean, Baseline.Corrupt(corrupt),
                reused.BaselineActivation);
            var features = GroundTruth.ActiveFeatures(reused);
            var (expected, actual) = (truth.Effects(full, metric, features), truth.Effects(reused, metric, features));
            for (int i = 0; i < features.Length; i++)
            {
                Assert.True(expected[i] == 0 == (actual[i] == 0), $"\"{c.Prompt}\" feature {features[i]}: {actual[i]} vs {expected[i]}");
                Assert.Equal(Math.Sign(expected[i]), Math.Sign(actual[i]));
                if (expected[i] == 0) zeros++;
            }
        }
        Assert.True(zeros > 0, "no patch too small to move the residual stream: the test checks nothing");
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ComponentEffectsEqualFullRecomputation(string name)
    {
        var model = Load(name);
        var c = model.Facts;
        var (tokens, corrupt) = Prompts();
        var record = new ComponentPatching(model, [GradientMethod.Gradient], ComponentSelection.All(c), batchSize: 5)
            .Evaluate(0, "p", tokens, corrupt, LogitDiff);
        var cache = new RunOptions
        {
            KeepForBackward = true, Logits = LogitRows.None,
            Cache = record.Components.SelectMany(k => new[] { k.Hook, new HookPoint(HookKind.ResidPre, k.Layer) }).Distinct().ToArray(),
        };
        using var clean = model.Forward(tokens, 1, cache);
        using var corrupted = model.Forward(corrupt, 1, cache);
        double m0 = clean.MetricValues(LogitDiff)[0];
        Assert.DoesNotContain(record.Components, k => k.Position < Shared);
        for (int i = 0; i < record.Components.Length; i++)
        {
            var k = record.Components[i];
            var start = new HookPoint(HookKind.ResidPre, k.Layer);
            var patch = new ActivationPatch(k.Hook, k.Position, k.Column(c), corrupted.Cached(k.Hook).AsMemory(k.Offset(c), k.Width(c)));
            using var run = model.ForwardFrom(start, clean.Cached(start), 1, T, new RunOptions { Logits = LogitRows.None, Patches = [patch] });
            double expected = m0 - run.MetricValues(LogitDiff)[0];
            Assert.True(expected == record.Truth[i], $"{k}: {record.Truth[i]} vs {expected}");
        }
        Assert.Contains(record.Truth, t => Math.Abs(t) > 1e-4);
    }
}
