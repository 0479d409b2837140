using RelpSae.Cli;
using RelpSae.Dashboards;
using RelpSae.Formats;
using RelpSae.Model;
using RelpSae.Sae;
using RelpSae.Tests.Sae;
using RelpSae.Text;

namespace RelpSae.Tests.Dashboards;

/// <summary>Feature dashboards on the embedded model and SAE, checked against a brute-force pass that keeps every activation.</summary>
public class FeatureDashboardsTests
{
    private static readonly Lazy<ModelFolder> Model = new(() => ModelFolder.Load(CliDefaults.EmbeddedModel));
    private static readonly Lazy<SparseAutoencoder> Autoencoder = new(() => SaeFiles.Load(CliDefaults.EmbeddedSae));
    private static HookPoint Hook => Model.Value.Facts.ParseHook("blocks.2.hook_resid_post");

    /// <summary>The tarot text packed into contexts of 16 tokens, BOS first.</summary>
    private static List<int[]> Contexts() =>
        [.. new ContextPacker(TarotText.Packing(16)).Pack(Documents.ReadTokens(TarotText.WriteFile(), "text", Model.Value.Tokenizer))];

    /// <summary>Every context's feature activations [T × d_sae], one context a forward, as the collection below runs.</summary>
    private static float[][] AllActivations(List<int[]> contexts) =>
        [.. contexts.Select(c => Autoencoder.Value.Encode(Model.Value.Transformer.ActivationAt(Hook, c, 1)))];

    /// <summary>The contexts, every activation over them, and the dashboards of all of them (BOS left out).</summary>
    private static (List<int[]> Contexts, float[][] All, FeatureDashboards Dashboards) CollectAll()
    {
        var contexts = Contexts();
        return (contexts, AllActivations(contexts),
            FeatureDashboards.Collect(Model.Value.Transformer, Autoencoder.Value, Hook, contexts, long.MaxValue, skipFirstPosition: true, Options));
    }

    private static readonly DashboardOptions Options = new() { TopContexts = 5, WindowBefore = 3, WindowAfter = 2, ContextsPerForward = 1 };

    [Fact]
    public void TopContextsAreTheLargestActivationsAndTheirWindowsHoldTheRecomputedActivations()
    {
        var (contexts, all, dashboards) = CollectAll();
        int s = Autoencoder.Value.DSae, T = contexts[0].Length;
        Assert.Equal(contexts.Count, dashboards.Contexts);
        Assert.Equal(contexts.Count * (T - 1), dashboards.Tokens);

        int withContexts = 0;
        for (int f = 0; f < s; f++)
        {
            var expected = Enumerable.Range(0, contexts.Count).SelectMany(c => Enumerable.Range(1, T - 1).Select(t => (Context: (long)c, Position: t, Value: all[c][t * s + f])))
                .Where(e => e.Value > 0).OrderByDescending(e => e.Value).ThenBy(e => e.Context).ThenBy(e => e.Position).Take(Options.TopContexts).ToList();
            var found = dashboards.Feature(f).TopContexts;
            Assert.Equal(expected, found.Select(w => (w.Context, w.Position, w.Value)).ToList());
            foreach (var w in found)
            {
                int start = w.Position - w.PeakIndex;
                Assert.Equal(Math.Max(1, w.Position - Options.WindowBefore), start);
                Assert.Equal(Math.Min(T - 1, w.Position + Options.WindowAfter) - start + 1, w.TokenIds.Length);
                Assert.Equal(contexts[(int)w.Context].AsSpan(start, w.TokenIds.Length).ToArray(), w.TokenIds);
                Assert.Equal(Enumerable.Range(start, w.Values.Length).Select(t => all[w.Context][t * s + f]), w.Values);
            }
            if (found.Count > 0) withContexts++;
        }
        Assert.True(withContexts > s / 2, $"only {withContexts} of {s} features fired");
    }

    [Fact]
    public void DensityIsTheFractionOfNonZeroActivationsAndTheHistogramCountsThePositiveOnes()
    {
        var (contexts, all, dashboards) = CollectAll();
        int s = Autoencoder.Value.DSae, T = contexts[0].Length;
        for (int f = 0; f < s; f++)
        {
            var values = all.SelectMany(a => Enumerable.Range(1, T - 1).Select(t => a[t * s + f])).ToList();
            var d = dashboards.Feature(f);
            Assert.Equal((double)values.Count(v => v != 0) / values.Count, d.Density);
            Assert.Equal(values.Count(v => v > 0), d.HistogramCounts.Sum());
            var edges = FeatureDashboards.HistogramEdges;
            foreach (var v in values.Where(v => v > 0))
            {
                int bin = edges.Count(e => e <= v);
                Assert.True(d.HistogramCounts[bin] > 0, $"feature {f}: {v} should count in bin {bin}");
            }
        }
    }

    [Fact]
    public void TokensStopAtTheFirstWholeContextThatReachesThem()
    {
        var contexts = Contexts();
        var dashboards = FeatureDashboards.Collect(Model.Value.Transformer, Autoencoder.Value, Hook, contexts, 31, skipFirstPosition: true, Options with { ContextsPerForward = 8 });
        Assert.Equal((3, 45L), (dashboards.Contexts, dashboards.Tokens));
    }

    /// <summary>
    /// The output tokens, from the weights' own file: the unit-norm decoder row, centred over d_model and scaled by
    /// ln_f's γ (fold_ln), times W_U (GPT-2's tied wte), centred over the vocabulary (center_unembed).
    /// </summary>
    [Fact]
    public void OutputTokensAreTheBruteForceRankingOfTheDecoderDirectionThroughTheUnembedding()
    {
        using var file = SafetensorsFile.Open(Path.Combine(CliDefaults.EmbeddedModel, "model.safetensors"));
        var gamma = file.ReadFloat("ln_f.weight").Data;
        var wte = file.ReadFloat("wte.weight");
        int V = wte.Shape[0], d = wte.Shape[1];
        var sae = Autoencoder.Value;
        var dashboards = FeatureDashboards.Collect(Model.Value.Transformer, sae, Hook, Contexts(), 15, skipFirstPosition: true, Options);
        foreach (int f in new[] { 0, 1, 7, 100, 511 })
        {
            var row = sae.DecoderRow(f).ToArray().Select(v => (double)v).ToArray();
            double norm = Math.Sqrt(row.Sum(v => v * v)), mean = row.Average();
            var u = row.Select((v, i) => (v / norm - mean / norm) * gamma[i]).ToArray();
            var logits = Enumerable.Range(0, V).Select(t => Enumerable.Range(0, d).Sum(i => u[i] * wte.Data[t * d + i])).ToArray();
            double centre = logits.Average();
            var ranked = Enumerable.Range(0, V).OrderByDescending(t => logits[t]).ToList();
            var dashboard = dashboards.Feature(f);
            Assert.Equal(ranked.Take(10), dashboard.TopLogits.Select(t => t.Id));
            Assert.Equal(Enumerable.Reverse(ranked).Take(10), dashboard.BottomLogits.Select(t => t.Id));
            foreach (var t in dashboard.TopLogits.Concat(dashboard.BottomLogits))
                Assert.Equal(logits[t.Id] - centre, t.Logit, 1e-4);
        }
    }

    /// <summary>A window longer than the context is the whole context: its size in memory follows the context, not the setting.</summary>
    [Fact]
    public void AWindowWiderThanTheContextKeepsTheWholeContext()
    {
        var contexts = Contexts();
        var dashboards = FeatureDashboards.Collect(Model.Value.Transformer, Autoencoder.Value, Hook, contexts, 100, skipFirstPosition: true,
            Options with { WindowBefore = int.MaxValue, WindowAfter = int.MaxValue });
        var top = Enumerable.Range(0, Autoencoder.Value.DSae).SelectMany(f => dashboards.Feature(f).TopContexts).ToList();
        Assert.NotEmpty(top);
        Assert.All(top, w => Assert.Equal((1, 15), (w.Position - w.PeakIndex, w.TokenIds.Length)));
    }

    [Fact]
    public void SettingsThatLeaveNothingToShowAreRefused()
    {
        var contexts = Contexts();
        var e = Assert.Throws<SettingException>(() => FeatureDashboards.Collect(Model.Value.Transformer, Autoencoder.Value, Hook, contexts, 100, true, Options with { TopContexts = 0 }));
        Assert.Equal("--top must be positive, got 0", e.Naming(OptionNames.Of));
        e = Assert.Throws<SettingException>(() => FeatureDashboards.Collect(Model.Value.Transformer, Autoencoder.Value, Hook, contexts, 0, true, Options));
        Assert.Equal("--tokens must be positive, got 0", e.Naming(OptionNames.Of));
        Assert.Throws<RelpSaeException>(() => FeatureDashboards.Collect(Model.Value.Transformer, Autoencoder.Value, Hook, [], 100, true, Options));
    }
}
