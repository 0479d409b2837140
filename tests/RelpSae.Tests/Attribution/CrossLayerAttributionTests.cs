using RelpSae.Attribution;
using RelpSae.Lrp;
using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Tests.Attribution;

/// <summary>
/// A cross-layer transcoder spliced in place of every MLP (<see cref="CrossLayerSplice"/>) leaves the model's output as it
/// was; the gradient of the metric with respect to each feature, Σ_{l≥l'} g_l·W_dec[l'→l]ᵀ from one backward pass, is the
/// model's derivative along the feature's decoder directions at every layer it writes (central differences); and under
/// every rule preset a feature that writes only its own layer scores what the single-layer transcoder of that layer does.
/// </summary>
public class CrossLayerAttributionTests
{
    private static readonly int[] Prompt = TranscoderSpliceTests.Prompt;

    /// <summary>A cross-layer transcoder of random weights for <paramref name="facts"/>' layers and width; <paramref name="later"/> false: no decoders to later layers.</summary>
    internal static CrossLayerTranscoder RandomClt(ModelFacts facts, SaeArchitecture architecture, HookKind input, HookKind output, bool later = true, int seed = 3) =>
        RandomClt(facts.NLayers, facts.DModel, architecture, input, output, later, seed);

    private static CrossLayerTranscoder RandomClt(int layers, int d, SaeArchitecture architecture, HookKind input, HookKind output, bool later = true, int seed = 3)
    {
        var encoders = Enumerable.Range(0, layers).Select(l => TranscoderSpliceTests.RandomTranscoder(d, architecture,
            new HookPoint(input, l).Name, new HookPoint(output, l).Name, skip: false, seed: seed + l).Dictionary).ToArray();
        var rng = new Random(seed);
        var decoders = Enumerable.Range(0, layers).Select(l => Enumerable.Range(0, layers - 1 - l).Select(_ =>
        {
            var w = new float[encoders[0].DSae * d];
            if (later) for (int i = 0; i < w.Length; i++) w[i] = 0.5f * (float)(2 * rng.NextDouble() - 1);
            return w;
        }).ToArray()).ToArray();
        string Suffix(HookKind kind) => new HookPoint(kind, 0).Name["blocks.0.".Length..];
        return new CrossLayerTranscoder(encoders, decoders, Suffix(input), Suffix(output));
    }

    public static TheoryData<string, HookKind, HookKind, SaeArchitecture> Cases => new()
    {
        { "tarot-gpt2", HookKind.Ln2Normalized, HookKind.MlpOut, SaeArchitecture.JumpRelu },
        { "stories260K-llama", HookKind.ResidMid, HookKind.MlpHookOut, SaeArchitecture.Standard },
        { "tiny-gemma2", HookKind.Ln2Normalized, HookKind.MlpOut, SaeArchitecture.JumpRelu },
        { "tiny-neox", HookKind.ResidPre, HookKind.MlpOut, SaeArchitecture.Standard },
        { "tiny-qwen3", HookKind.MlpHookIn, HookKind.MlpHookOut, SaeArchitecture.JumpRelu },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void TheSplicedModelComputesWhatTheModelDid(string folder, HookKind input, HookKind output, SaeArchitecture architecture)
    {
        var model = Families.Named(folder).Load();
        var clt = RandomClt(model.Facts, architecture, input, output);
        var splice = CrossLayerSplice.Create(model, clt, "test clt", Prompt, Baseline.Zero);
        Assert.Contains(splice.Features.SelectMany(f => f), f => f == 0);
        Assert.Contains(splice.Features.SelectMany(f => f), f => f != 0);

        using var clean = model.Forward(Prompt, 1, new RunOptions { Logits = LogitRows.All });
        using var spliced = model.Forward(Prompt, 1, new RunOptions { Logits = LogitRows.All, Rewrite = splice.Replacement() });
        for (int i = 0; i < clean.Logits.Length; i++) Assert.Equal(clean.Logits[i], spliced.Logits[i], 1e-4f * (1 + MathF.Abs(clean.Logits[i])));

        // The features do reach the output: without them (the baseline's replacement, zero features and error) the logits move.
        using var ablated = model.Forward(Prompt, 1, new RunOptions { Logits = LogitRows.All, Rewrite = splice.Replacement(splice.BaselineFeatures) });
        Assert.Contains(Enumerable.Range(0, clean.Logits.Length), i => MathF.Abs(clean.Logits[i] - ablated.Logits[i]) > 1e-3f);
    }

    /// <summary>Adds delta·W_dec[source→l] of one feature at one position to every output hook l ≥ source, on top of what the model computes there.</summary>
    private sealed class FeatureNudge(CrossLayerSplice splice, int source, int position, int feature, float delta) : IActivationRewrite
    {
        public void Apply(HookPoint hook, float[] activation, int batch, int tokens)
        {
            int l = hook.Layer, d = splice.Transcoder.DModel;
            if (l < source || l >= splice.OutputHooks.Count || hook != splice.OutputHooks[l]) return;
            var row = splice.Transcoder.Decoder(source, l).AsSpan(feature * d, d);
            for (int j = 0; j < d; j++) activation[position * d + j] += delta * row[j];
        }
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void EachFeaturesGradientIsTheModelsDerivativeAlongItsDecoders(string folder, HookKind input, HookKind output, SaeArchitecture architecture)
    {
        var model = Families.Named(folder).Load();
        var clt = RandomClt(model.Facts, architecture, input, output);
        var metric = new Metric(MetricKind.LogProb, Target: 3);
        var splice = CrossLayerSplice.Create(model, clt, "test clt", Prompt, Baseline.Zero);
        var result = CrossLayerAttribution.Run(GradientMethod.Gradient, model, splice, metric, Prompt);
        int n = clt.DSae, T = Prompt.Length;
        double MetricWith(int source, int position, int feature, float delta)
        {
            using var run = model.Forward(Prompt, 1, new RunOptions { Rewrite = new FeatureNudge(splice, source, position, feature, delta) });
            return run.MetricValues(metric)[0];
        }
        double largest = 0;
        foreach (int source in new[] { 0, clt.Layers / 2, clt.Layers - 1 }.Distinct())
            // The last positions' features first: a last-layer feature at an earlier position cannot reach the metric's.
            foreach (var k in Enumerable.Range(0, T * n).Reverse().Where(k => splice.Features[source][k] != 0).Take(3))
            {
                int t = k / n, i = k % n;
                const float h = 1e-2f;
                double numeric = (MetricWith(source, t, i, h) - MetricWith(source, t, i, -h)) / (2 * h);
                double analytic = result.Score(t, source * n + i) / splice.Features[source][k];
                Assert.Equal(numeric, analytic, 2e-3 + 2e-2 * Math.Abs(numeric));
                largest = Math.Max(largest, Math.Abs(analytic));
            }
        Assert.True(largest > 1e-3, "every feature checked had no effect");
    }

    public static TheoryData<string, HookKind, HookKind, string> RuleCases => new()
    {
        { "tarot-gpt2", HookKind.Ln2Normalized, HookKind.MlpOut, "gradient" },
        { "tarot-gpt2", HookKind.Ln2Normalized, HookKind.MlpOut, "relp" },
        { "tarot-gpt2", HookKind.Ln2Normalized, HookKind.MlpOut, "attnlrp" },
        { "stories260K-llama", HookKind.ResidMid, HookKind.MlpHookOut, "relp" },
        { "stories260K-llama", HookKind.ResidMid, HookKind.MlpHookOut, "relp-ah" },
        { "tiny-gemma2", HookKind.Ln2Normalized, HookKind.MlpOut, "relp-ah" },
    };

    [Theory]
    [MemberData(nameof(RuleCases))]
    public void AFeatureWritingOnlyItsOwnLayerScoresAsThatLayersTranscoderDoes(string folder, HookKind input, HookKind output, string methodName)
    {
        var model = Families.Named(folder).Load();
        var clt = RandomClt(model.Facts, SaeArchitecture.JumpRelu, input, output, later: false);
        var metric = new Metric(MetricKind.LogProb, Target: 3);
        var method = AttributionMethods.Parse(methodName)[0];
        var splice = CrossLayerSplice.Create(model, clt, "test clt", Prompt, Baseline.Zero);
        var result = CrossLayerAttribution.Run(method, model, splice, metric, Prompt);
        int n = clt.DSae;
        for (int l = 0; l < clt.Layers; l++)
        {
            var transcoder = new Transcoder(clt.Encoders[l], new HookPoint(input, l).Name, new HookPoint(output, l).Name);
            var single = Attributor.Run(method, SaeSplice.CreateTranscoder(model, transcoder, "layer", Prompt, Baseline.Zero), metric);
            for (int t = 0; t < Prompt.Length; t++)
                for (int i = 0; i < n; i++)
                    Assert.Equal(single.Score(t, i), result.Score(t, l * n + i), 1e-5 + 1e-4 * Math.Abs(single.Score(t, i)));
        }
        Assert.Contains(Enumerable.Range(0, result.Scores.Length), k => Math.Abs(result.Scores[k]) > 1e-4);
    }

    [Fact]
    public void IntegratedGradientsAndAMeanBaselineAreRefusedInOneLine()
    {
        var model = Families.Named("tarot-gpt2").Load();
        var clt = RandomClt(model.Facts, SaeArchitecture.JumpRelu, HookKind.Ln2Normalized, HookKind.MlpOut);
        var splice = CrossLayerSplice.Create(model, clt, "test clt", Prompt, Baseline.Zero);
        var e = Assert.Throws<RelpSaeException>(() => CrossLayerAttribution.Run(new IntegratedGradients(8), model, splice, new Metric(MetricKind.Logit, 3), Prompt));
        Assert.Equal("method ig is not supported for a cross-layer transcoder: use gradient, relp, relp-ah, attnlrp or a rule list", e.Message);
        e = Assert.Throws<RelpSaeException>(() => CrossLayerSplice.Create(model, clt, "test clt", Prompt, Baseline.Mean(new float[clt.DSae])));
        Assert.Equal("test clt: a cross-layer transcoder has no feature means for a mean baseline: use the zero or corrupt baseline", e.Message);
    }

    [Fact]
    public void ATranscoderWritingMlpHookOutBeforeGemmasPostNormIsRefused()
    {
        var model = Families.Named("tiny-gemma2").Load();
        var clt = RandomClt(model.Facts, SaeArchitecture.JumpRelu, HookKind.MlpHookIn, HookKind.MlpHookOut);
        var e = Assert.Throws<RelpSaeException>(() => CrossLayerSplice.Create(model, clt, "the clt", Prompt, Baseline.Zero));
        Assert.Equal("the clt: the cross-layer transcoder writes mlp.hook_out, which lies before this model's post-feedforward norm; "
            + "only cross-layer transcoders writing hook_mlp_out are supported here", e.Message);
    }

    [Fact]
    public void ATranscoderOfAnotherWidthOrDepthThanTheModelIsRefused()
    {
        var model = Families.Named("tarot-gpt2").Load();
        var clt = CrossLayerTranscoderFiles.Load(RelpSae.Tests.Sae.CrossLayerTranscoderFilesTests.Data("relu"));
        var e = Assert.Throws<RelpSaeException>(() => CrossLayerSplice.Create(model, clt, "the clt", Prompt, Baseline.Zero));
        Assert.Equal("the clt: the cross-layer transcoder has 3 layers but the model has 4", e.Message);
        var wide = RandomClt(model.Facts.NLayers, 64, SaeArchitecture.Standard, HookKind.ResidMid, HookKind.MlpOut);
        e = Assert.Throws<RelpSaeException>(() => CrossLayerSplice.Create(model, wide, "the clt", Prompt, Baseline.Zero));
        Assert.StartsWith("the clt: the transcoder is 64 wide but blocks.0.hook_resid_mid holds 128 values a position", e.Message);
    }
}
