using RelpSae.Attribution;
using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Tests.Attribution;

/// <summary>
/// Attribution to a transcoder's features: spliced at its MLP's output (<see cref="SaeSplice.CreateTranscoder"/>), the
/// gradient of the metric with respect to each feature, g·W_decᵀ, is the derivative of the spliced model's metric, checked
/// by central differences of full forward passes that write the perturbed features in the MLP's place (on Gemma at
/// mlp.hook_out too, before the post-feedforward norm).
/// </summary>
public class TranscoderAttributionTests
{
    private static readonly int[] Prompt = TranscoderSpliceTests.Prompt;

    public static TheoryData<string, HookKind, HookKind, SaeArchitecture, bool> Cases => new()
    {
        { "tarot-gpt2", HookKind.Ln2Normalized, HookKind.MlpOut, SaeArchitecture.JumpRelu, false },
        { "stories260K-llama", HookKind.ResidMid, HookKind.MlpHookOut, SaeArchitecture.Standard, true },
        { "tiny-gemma2", HookKind.Ln2Normalized, HookKind.MlpOut, SaeArchitecture.JumpRelu, false },
        { "tiny-neox", HookKind.ResidPre, HookKind.MlpOut, SaeArchitecture.TopK, true },
        // On Gemma mlp.hook_out lies before the post-feedforward norm, which the splice runs and differentiates.
        { "tiny-gemma2", HookKind.MlpHookIn, HookKind.MlpHookOut, SaeArchitecture.Standard, true },
        { "tiny-gemma3", HookKind.MlpHookIn, HookKind.MlpHookOut, SaeArchitecture.JumpRelu, false },
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void EachFeaturesGradientIsTheSplicedModelsDerivative(string folder, HookKind input, HookKind output, SaeArchitecture architecture, bool skip)
    {
        var model = Families.Named(folder).Load();
        int l = model.Facts.NLayers / 2, T = Prompt.Length;
        var transcoder = TranscoderSpliceTests.RandomTranscoder(model.Facts.DModel, architecture, new HookPoint(input, l).Name, new HookPoint(output, l).Name, skip);
        var metric = new Metric(MetricKind.LogProb, Target: 3);
        var splice = SaeSplice.CreateTranscoder(model, transcoder, "test transcoder", Prompt, Baseline.Zero);
        var replaced = TranscoderSplice.Create(model, transcoder, "test transcoder", Prompt);
        Assert.Equal(replaced.Features, splice.Features);

        // The metric with the features moved, from a full pass with the transcoder in the MLP's place.
        double MetricWith(int k, float delta)
        {
            var f = (float[])replaced.Features.Clone();
            f[k] += delta;
            using var run = model.Forward(Prompt, 1, new RunOptions { Rewrite = replaced.Replacement(f) });
            return run.MetricValues(metric)[0];
        }
        var g = GradientMethod.Gradient.HookGradient(splice, metric);
        int n = transcoder.DSae, d = transcoder.DIn;
        var active = Enumerable.Range(0, T * n).Where(k => splice.Features[k] != 0).Take(6).Append(T * n - 1);
        double largest = 0;
        var scores = Attributor.Score(GradientMethod.Gradient, splice, g, 0);
        foreach (int k in active)
        {
            int t = k / n, i = k % n;
            double analytic = 0;
            for (int j = 0; j < d; j++) analytic += (double)g[t * d + j] * transcoder.Dictionary.WDec[i * d + j];
            const float h = 1e-2f;
            double numeric = (MetricWith(k, h) - MetricWith(k, -h)) / (2 * h);
            Assert.Equal(numeric, analytic, 2e-3 + 2e-2 * Math.Abs(numeric));
            largest = Math.Max(largest, Math.Abs(analytic));
            // A score is (f − f′)·∂m/∂f, against the zero baseline here.
            Assert.Equal(splice.Features[k] * analytic, scores.Score(t, i), 1e-5 + 1e-4 * Math.Abs(analytic));
        }
        Assert.True(largest > 1e-3, "every feature checked had no effect");
    }
}
