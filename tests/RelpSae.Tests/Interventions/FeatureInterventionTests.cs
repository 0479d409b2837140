using RelpSae.Attribution;
using RelpSae.Interventions;
using RelpSae.Model;
using RelpSae.Sae;
using RelpSae.Tests.Attribution;
using RelpSae.Tests.Model;
using RelpSae.Tests.Sae;

namespace RelpSae.Tests.Interventions;

/// <summary>
/// Steering, clamping and ablating a dictionary feature against the same change made by hand as an activation patch, on the
/// tarot GPT-2 with a random SAE at blocks.2.hook_resid_post and a random transcoder in block 1's MLP.
/// </summary>
public class FeatureInterventionTests
{
    private static readonly int[] Prompt = [44, 79, 296, 271, 724, 338];
    private static readonly HookPoint Hook = new(HookKind.ResidPost, 2);
    private static Gpt2 Model => TarotCheckpointTests.Tarot.Value;
    private static readonly Lazy<SparseAutoencoder> Sae = new(() =>
        SaeTestData.RandomSae(SaeTestData.Config(SaeArchitecture.Standard, 128, 512) with { HookName = Hook.Name }, seed: 7));

    private static FeatureInterventions Interventions(params FeatureIntervention[] changes) =>
        new(changes, [new FeatureDictionary(Hook, Sae.Value)], Model.Facts);

    private static float[] Logits(int[] tokens, RunOptions options)
    {
        using var run = Model.Forward(tokens, 1, options with { Logits = LogitRows.All });
        return run.Logits.ToArray();
    }

    /// <summary>The logits with every row of <see cref="Hook"/>'s activation replaced by <paramref name="patched"/>.</summary>
    private static float[] PatchedLogits(int[] tokens, float[] patched) => Logits(tokens, new RunOptions
    {
        Patches = [.. Enumerable.Range(0, tokens.Length).Select(t => new ActivationPatch(Hook, t, 0, patched.AsMemory(t * 128, 128)))],
    });

    private static void AssertClose(float[] expected, float[] actual, float tolerance = 1e-4f)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], tolerance * (1 + MathF.Abs(expected[i])));
    }

    /// <summary>A feature active at some position of the prompt and not at others.</summary>
    private static int ActiveFeature(float[] features, int tokens)
    {
        int n = features.Length / tokens;
        for (int i = 0; i < n; i++)
        {
            int active = Enumerable.Range(0, tokens).Count(t => features[t * n + i] > 0);
            if (active > 0 && active < tokens) return i;
        }
        throw new InvalidOperationException("no feature active at some positions only");
    }

    [Fact]
    public void SteeringAddsTheDecoderDirectionAtEveryPosition()
    {
        const int feature = 37;
        const float v = 6.5f;
        var x = Model.ActivationAt(Hook, Prompt, 1);
        for (int t = 0; t < Prompt.Length; t++)
            for (int j = 0; j < 128; j++) x[t * 128 + j] += v * Sae.Value.WDec[feature * 128 + j];
        var steered = Logits(Prompt, new RunOptions { Rewrite = Interventions(FeatureIntervention.Steer(Hook.Name, feature, v)) });
        AssertClose(PatchedLogits(Prompt, x), steered);
        Assert.Contains(Enumerable.Range(0, steered.Length), i => MathF.Abs(steered[i] - Logits(Prompt, new RunOptions())[i]) > 1e-2f);
    }

    [Fact]
    public void AblatingSubtractsTheFeaturesContribution()
    {
        var x = Model.ActivationAt(Hook, Prompt, 1);
        var f = Sae.Value.Encode(x);
        int feature = ActiveFeature(f, Prompt.Length);
        for (int t = 0; t < Prompt.Length; t++)
            for (int j = 0; j < 128; j++) x[t * 128 + j] -= f[t * 512 + feature] * Sae.Value.WDec[feature * 128 + j];
        var ablated = Logits(Prompt, new RunOptions { Rewrite = Interventions(FeatureIntervention.Ablate(Hook.Name, feature)) });
        AssertClose(PatchedLogits(Prompt, x), ablated);
        Assert.Contains(Enumerable.Range(0, ablated.Length), i => MathF.Abs(ablated[i] - Logits(Prompt, new RunOptions())[i]) > 1e-3f);
    }

    [Fact]
    public void ClampingAFeatureToItsOwnValueChangesNothing()
    {
        int[] one = Prompt[..1];
        var f = Sae.Value.Encode(Model.ActivationAt(Hook, one, 1));
        int feature = Array.FindIndex(f, v => v > 0);
        var plain = Logits(one, new RunOptions());
        Assert.Equal(plain, Logits(one, new RunOptions { Rewrite = Interventions(FeatureIntervention.Clamp(Hook.Name, feature, f[feature])) }));
        // Another value does change them.
        Assert.NotEqual(plain, Logits(one, new RunOptions { Rewrite = Interventions(FeatureIntervention.Clamp(Hook.Name, feature, f[feature] + 3)) }));
    }

    [Fact]
    public void ClampingATranscoderFeatureChangesTheMlpOutputByItsDecoderRow()
    {
        var (input, output) = (new HookPoint(HookKind.Ln2Normalized, 1), new HookPoint(HookKind.MlpOut, 1));
        var transcoder = TranscoderSpliceTests.RandomTranscoder(128, SaeArchitecture.Standard, input.Name, output.Name, skip: true);
        var dictionary = FeatureDictionary.Of(transcoder, Model.Facts, "test transcoder");
        using var plain = Model.Forward(Prompt, 1, new RunOptions { Cache = [input, output], StopAfter = output, Logits = LogitRows.None });
        var f = transcoder.Encode(plain.Cached(input));
        int feature = ActiveFeature(f, Prompt.Length);
        const float value = 2.5f;
        var clamp = new FeatureInterventions([FeatureIntervention.Clamp(output.Name, feature, value)], [dictionary], Model.Facts);
        using var clamped = Model.Forward(Prompt, 1, new RunOptions { Cache = [input, output], StopAfter = output, Logits = LogitRows.None, Rewrite = clamp });

        Assert.Equal(plain.Cached(input), clamped.Cached(input));
        var y = plain.Cached(output);
        for (int t = 0; t < Prompt.Length; t++)
            for (int j = 0; j < 128; j++) y[t * 128 + j] += (value - f[t * transcoder.DSae + feature]) * transcoder.Dictionary.WDec[feature * 128 + j];
        AssertClose(y, clamped.Cached(output), 1e-5f);
    }

    [Fact]
    public void ATranscoderInASetOfDictionariesIsEncodedFromItsMlpsInput()
    {
        // generate --saes loads a transcoder as a HookedSae (its output hook, and its input); its features come from the input too.
        var (input, output) = (new HookPoint(HookKind.Ln2Normalized, 1), new HookPoint(HookKind.MlpOut, 1));
        var transcoder = TranscoderSpliceTests.RandomTranscoder(128, SaeArchitecture.Standard, input.Name, output.Name, skip: false);
        var f = transcoder.Encode(Model.ActivationAt(input, Prompt, 1));
        int feature = ActiveFeature(f, Prompt.Length);
        FeatureIntervention[] clamp = [FeatureIntervention.Clamp(output.Name, feature, 2.5f)];
        var fromSet = new FeatureInterventions(clamp, [FeatureDictionary.Of(new HookedSae("set", transcoder.Dictionary, output, input))], Model.Facts);
        var alone = new FeatureInterventions(clamp, [FeatureDictionary.Of(transcoder, Model.Facts, "alone")], Model.Facts);
        Assert.Equal(Logits(Prompt, new RunOptions { Rewrite = alone }), Logits(Prompt, new RunOptions { Rewrite = fromSet }));
    }

    [Fact]
    public void TheSpliceIsOfTheIntervenedModel()
    {
        var f = Sae.Value.Encode(Model.ActivationAt(Hook, Prompt, 1));
        int feature = ActiveFeature(f, Prompt.Length);
        var interventions = Interventions(FeatureIntervention.Clamp(Hook.Name, feature, 4), FeatureIntervention.Steer(Hook.Name, 3, -2));
        var splice = SaeSplice.Create(Model, Sae.Value, Hook, Prompt, Baseline.Corrupt([79, 44, 296, 271, 338, 724]), interventions);
        var metric = new Metric(MetricKind.Logit, 265);
        using var intervened = Model.Forward(Prompt, 1, new RunOptions { Logits = LogitRows.All, Rewrite = interventions });
        Assert.Equal(intervened.MetricValues(metric)[0], splice.MetricAt(splice.Clean, metric), 1e-4);
        using var corrupt = Model.Forward([79, 44, 296, 271, 338, 724], 1, new RunOptions { Logits = LogitRows.All, Rewrite = interventions });
        Assert.Equal(corrupt.MetricValues(metric)[0], splice.MetricAt(splice.BaselineActivation, metric), 1e-4);
        for (int t = 0; t < Prompt.Length; t++)
        {
            Assert.Equal(4f, splice.Features[t * 512 + feature]);
            Assert.Equal(4f, splice.BaselineFeatures[t * 512 + feature]);
            Assert.Equal(f[t * 512 + 3] - 2, splice.Features[t * 512 + 3], 1e-6f);
        }
        // The error node is the one the intervention held: x − decode(f) of the model as it was.
        var plain = SaeSplice.Create(Model, Sae.Value, Hook, Prompt, Baseline.Zero);
        AssertClose(plain.Error, splice.Error, 1e-4f);
    }

    [Fact]
    public void ATranscodersSpliceIsOfTheIntervenedModel()
    {
        var (input, output) = (new HookPoint(HookKind.Ln2Normalized, 1), new HookPoint(HookKind.MlpOut, 1));
        var transcoder = TranscoderSpliceTests.RandomTranscoder(128, SaeArchitecture.Standard, input.Name, output.Name, skip: false);
        var steer = new FeatureInterventions([FeatureIntervention.Steer(output.Name, 5, 3)], [FeatureDictionary.Of(transcoder, Model.Facts, "test")], Model.Facts);
        var splice = SaeSplice.CreateTranscoder(Model, transcoder, "test", Prompt, Baseline.Zero, steer);
        var metric = new Metric(MetricKind.Logit, 265);
        using var steered = Model.Forward(Prompt, 1, new RunOptions { Logits = LogitRows.All, Rewrite = steer });
        using var plain = Model.Forward(Prompt, 1, new RunOptions { Logits = LogitRows.All });
        Assert.Equal(steered.MetricValues(metric)[0], splice.MetricAt(splice.Clean, metric), 1e-4);
        Assert.NotEqual(plain.MetricValues(metric)[0], steered.MetricValues(metric)[0], 1e-3);
    }

    [Fact]
    public void GenerationSteersEveryStep()
    {
        var steer = Interventions(FeatureIntervention.Steer(Hook.Name, 37, 40));
        var plain = Generation.Continue(Model, Prompt[..3], 12, temperature: 1, seed: 3);
        var steered = Generation.Continue(Model, Prompt[..3], 12, temperature: 1, seed: 3, rewrite: steer);
        Assert.NotEqual(plain, steered);
        Assert.Equal(steered, Generation.Continue(Model, Prompt[..3], 12, temperature: 1, seed: 3, rewrite: steer));
    }

    public static TheoryData<FeatureIntervention, string> Refused => new()
    {
        { FeatureIntervention.Steer("blocks.1.hook_resid_post", 3, 1), "steer blocks.1.hook_resid_post:3=1: no dictionary at blocks.1.hook_resid_post; the dictionaries given are at blocks.2.hook_resid_post" },
        { FeatureIntervention.Clamp("blocks.2.hook_resid_post", 512, 1), "clamp blocks.2.hook_resid_post:512=1: feature 512 is outside the dictionary's 512 features (0..511)" },
        { FeatureIntervention.Steer("blocks.2.hook_resid_post", 3, float.PositiveInfinity), "steer blocks.2.hook_resid_post:3=Infinity: the value must be a finite number" },
        { FeatureIntervention.Ablate("blocks.2.hook_nonsense", 3), "ablate blocks.2.hook_nonsense:3: " },
    };

    [Theory]
    [MemberData(nameof(Refused))]
    public void BadInterventionsAreRefusedInOneLine(FeatureIntervention bad, string message)
    {
        var e = Assert.Throws<SettingException>(() => Interventions(bad));
        Assert.StartsWith(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void TheSameFeatureTwiceIsRefused()
    {
        var e = Assert.Throws<SettingException>(() => Interventions(FeatureIntervention.Steer(Hook.Name, 3, 1), FeatureIntervention.Ablate(Hook.Name, 3)));
        Assert.Equal("ablate blocks.2.hook_resid_post:3: feature 3 at blocks.2.hook_resid_post is already changed by steer blocks.2.hook_resid_post:3=1", e.Message);
    }
}
