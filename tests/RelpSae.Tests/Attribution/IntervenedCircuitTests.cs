using RelpSae.Attribution;
using RelpSae.Interventions;
using RelpSae.Model;
using RelpSae.Sae;
using RelpSae.Tests.Model;

namespace RelpSae.Tests.Attribution;

/// <summary>
/// Several SAEs spliced into a model with feature interventions in force (a clamp at the first site, a steer at the last),
/// checked against the intervened model run plainly with activation patches: every site's metric is the intervened
/// model's, and each feature's gradient score at every site is the derivative of that model's metric along the feature's
/// contribution there, by central differences.
/// </summary>
public class IntervenedCircuitTests
{
    private const int T = CircuitTests.T;
    private static readonly Metric LogitDiff = CircuitTests.LogitDiff;
    private static readonly string[] Hooks = CircuitTests.Hooks;

    /// <summary>The tiny model with <see cref="CircuitTests"/>' three SAEs.</summary>
    private static (Gpt2 Model, IReadOnlyList<HookedSae> Saes) Setup()
    {
        var model = TinyModels.Create(seed: 4);
        return (model, CircuitTests.Saes(model, Hooks));
    }

    private static FeatureInterventions Interventions(Gpt2 model, IReadOnlyList<HookedSae> saes, params FeatureIntervention[] changes) =>
        new(changes, [.. saes.Select(FeatureDictionary.Of)], model.Facts);

    /// <summary>The interventions everywhere but at <paramref name="skip"/>, whose activation a patch writes as already changed.</summary>
    private sealed class Except(FeatureInterventions inner, HookPoint skip) : IActivationRewrite
    {
        public void Apply(HookPoint hook, float[] activation, int batch, int tokens)
        {
            if (hook != skip) inner.Apply(hook, activation, batch, tokens);
        }
    }

    private static double Metric(Gpt2 model, int[] tokens, IActivationRewrite rewrite, HookPoint? hook = null, float[]? values = null)
    {
        int d = model.Config.DModel;
        var patches = hook is { } h ? Enumerable.Range(0, T).Select(t => new ActivationPatch(h, t, 0, values.AsMemory(t * d, d))).ToList() : [];
        using var run = model.Forward(tokens, 1, new RunOptions { Logits = LogitRows.All, Rewrite = rewrite, Patches = patches });
        return run.MetricValues(LogitDiff)[0];
    }

    [Fact]
    public void EverySitesMetricAndGradientScoresAreThoseOfTheIntervenedModel()
    {
        var (model, saes) = Setup();
        var tokens = TinyModels.Tokens(1, T);
        var first = saes[0].Sae.Encode(model.ActivationAt(saes[0].Hook, tokens, 1));
        int clamped = Enumerable.Range(0, 24).First(i => first[(T - 1) * 24 + i] > 0);
        var changes = Interventions(model, saes, FeatureIntervention.Clamp(Hooks[0], clamped, 3), FeatureIntervention.Steer(Hooks[2], 5, 2));
        var splices = MultiSaeSplice.Create(model, saes, tokens, Baseline.Zero, interventions: changes);

        double intervened = Metric(model, tokens, changes);
        Assert.NotEqual(Metric(model, tokens, Interventions(model, saes)), intervened, 1e-3);
        foreach (var s in splices.Splices) Assert.Equal(intervened, s.MetricAt(s.Clean, LogitDiff), 4);
        Assert.Equal(intervened, CircuitAblation.Metrics(model, splices, new CircuitNodes(saes, T, perPosition: false), [null], LogitDiff)[0], 4);
        Assert.All(Enumerable.Range(0, T), t => Assert.Equal(3f, splices.Splices[0].Features[t * 24 + clamped]));

        var scores = NodeAttribution.Run(GradientMethod.Gradient, model, splices, LogitDiff);
        int d = model.Config.DModel;
        for (int i = 0; i < saes.Count; i++)
        {
            var splice = splices.Splices[i];
            foreach (var (feature, score) in scores.Hooks[i].Top(3))
            {
                // The metric along f·W_dec[feature] at every position, the site's activation as the interventions left it.
                double At(float h)
                {
                    var x = (float[])splice.Clean.Clone();
                    for (int t = 0; t < T; t++)
                        saes[i].Sae.AddFeatureContribution(feature, h * splice.Features[t * 24 + feature], x.AsSpan(t * d, d));
                    return Metric(model, tokens, new Except(changes, saes[i].Hook), saes[i].Hook, x);
                }
                const float step = 1e-2f;
                double slope = (At(step) - At(-step)) / (2 * step);
                Assert.True(Math.Abs(slope - score) < 2e-3 + 1e-2 * Math.Abs(score), $"{saes[i].Hook} feature {feature}: score {score}, slope {slope}");
            }
        }
    }

    [Fact]
    public void IntegratedGradientsAtEverySiteIsCompleteForTheIntervenedModel()
    {
        var (model, saes) = Setup();
        var tokens = TinyModels.Tokens(1, T);
        var changes = Interventions(model, saes, FeatureIntervention.Ablate(Hooks[0], 2), FeatureIntervention.Steer(Hooks[1], 7, 1.5f), FeatureIntervention.Steer(Hooks[2], 5, 2));
        var splices = MultiSaeSplice.Create(model, saes, tokens, Baseline.Corrupt(TinyModels.Tokens(1, T, seed: 99)), interventions: changes);
        var ig = NodeAttribution.Run(new IntegratedGradients(256), model, splices, LogitDiff);
        for (int i = 0; i < saes.Count; i++)
        {
            var s = splices.Splices[i];
            double delta = s.MetricAt(s.Clean, LogitDiff) - s.MetricAt(s.BaselineActivation, LogitDiff);
            Assert.Equal(delta, ig.Hooks[i].Total + ig.Hooks[i].ErrorNode, 2);
        }
        // The corrupted prompt runs through the same intervened model: at the first site, its split is of that run.
        using var corrupt = model.Forward(TinyModels.Tokens(1, T, seed: 99), 1, new RunOptions { Logits = LogitRows.All, Rewrite = changes });
        Assert.Equal(corrupt.MetricValues(LogitDiff)[0], splices.Splices[0].MetricAt(splices.Splices[0].BaselineActivation, LogitDiff), 4);
    }

    [Fact]
    public void AClampAfterAnotherSiteIsRefusedInOneLine()
    {
        var (model, saes) = Setup();
        var changes = Interventions(model, saes, FeatureIntervention.Ablate(Hooks[1], 3));
        var e = Assert.Throws<SettingException>(() => MultiSaeSplice.Create(model, saes, TinyModels.Tokens(1, T), Baseline.Zero, interventions: changes));
        Assert.Equal($"--ablate {Hooks[1]}:3: a clamp or an ablation goes at the first spliced site; {Hooks[0]} comes before it, "
            + "and its gradient would pass the clamped feature as if it still followed it (steering may go at any site)", e.Naming(s => $"--{s.ToString().ToLowerInvariant()}"));
    }
}
