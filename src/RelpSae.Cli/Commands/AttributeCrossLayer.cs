using System.Text.Encodings.Web;
using System.Text.Json;
using RelpSae.Attribution;
using RelpSae.Model;
using RelpSae.Prompts;
using RelpSae.Sae;
using Spectre.Console;

namespace RelpSae.Cli.Commands;

/// <summary>
/// <c>relp-sae attribute --sae CLT</c>: the prediction attributed to a cross-layer transcoder's features, spliced in place
/// of every MLP (<see cref="CrossLayerSplice"/>), by gradient and the RelP rule presets (<see cref="CrossLayerAttribution"/>);
/// a feature is named L{layer}/#{index}. Printed as the single-dictionary report is, and as JSON.
/// </summary>
internal static class AttributeCrossLayer
{
    public sealed record Request(string Model, string Sae, bool Center, string? Baseline, string? Metric, bool Bos, int Position, bool Truncate,
        PromptCase Case, IReadOnlyList<IAttributionMethod> Methods, int Top, string? Json);

    /// <summary>Whether the --sae value names a cross-layer transcoder: a folder in circuit-tracer's layout, or a Hub name of one.</summary>
    public static bool Names(string sae) =>
        Directory.Exists(sae) ? CrossLayerTranscoderFiles.IsCrossLayerTranscoder(sae) : Hub.SaeReference.TryParse(sae)?.CrossLayerLayers is not null;

    public static int Run(Request r)
    {
        var processing = Hub.LocalOrHub.ProcessingOf(r.Sae);
        if (processing.PrependBos && !r.Bos) Console.Error.WriteLine($"note: {r.Sae} expects {processing}: applied");
        var bundle = ModelFolder.Load(CliDefaults.ExistingFolder(r.Model, "--model"), r.Center || processing.CenterWritingWeights, CliDefaults.Holding);
        PromptResolver.CheckTokenizer(r.Case, bundle.Tokenizer);
        string folder = CliDefaults.ExistingSae(r.Sae);
        var clt = CrossLayerTranscoderFiles.Load(folder);
        var kind = CliParsing.Baseline(r.Baseline);
        // A mean baseline reaches the splice, which says why a cross-layer transcoder has none.
        var resolver = new PromptResolver(bundle.Transformer, bundle.Tokenizer, CliParsing.Metric(r.Metric), kind, kind == BaselineKind.Mean ? [] : null,
            r.Bos || processing.PrependBos, r.Position, r.Truncate);
        var request = resolver.Resolve(r.Case);
        var model = bundle.Transformer;
        var splice = CrossLayerSplice.Create(model, clt, folder, request.Tokens, request.Baseline);
        var results = r.Methods.Select(m => CrossLayerAttribution.Run(m, model, splice, request.Metric, request.Tokens)).ToList();
        double MetricWith(IActivationRewrite rewrite)
        {
            using var run = model.Forward(request.Tokens, 1, new RunOptions { Rewrite = rewrite });
            return run.MetricValues(request.Metric)[0];
        }
        double clean = MetricWith(splice.Replacement()), baselineValue = MetricWith(splice.BaselineReplacement());

        AttributeCommand.PrintHeader(bundle, request, clean, baselineValue);
        int active = splice.Features.Sum(f => f.Count(v => v != 0));
        Console.WriteLine($"CLT       {clt.InputHook} → {clt.OutputHook} (cross-layer transcoder), {clt.Layers} layers × {clt.DSae} features, {active} active (feature, position) pairs");
        foreach (var result in results)
        {
            var table = new Table().Title(Markup.Escape($"{result.Method}  ({result.Seconds * 1000:F1} ms, rules {result.Rules.Describe(bundle.Facts.GatedMlp)})"))
                .AddColumns("feature", "score", "max act");
            foreach (var (feature, score) in result.Top(r.Top))
                table.AddRow(Name(clt, feature), $"{score:F4}", $"{MaxActivation(splice, feature):F3}");
            AnsiConsole.Write(table);
        }
        AttributeCommand.PrintCompleteness(results, clean - baselineValue);
        if (r.Json is { } path) WriteJson(path, bundle, request, clt, splice, results, clean, baselineValue, r.Top);
        return 0;
    }

    private static string Name(CrossLayerTranscoder clt, int feature) => $"L{feature / clt.DSae}/#{feature % clt.DSae}";

    private static float MaxActivation(CrossLayerSplice s, int feature)
    {
        int n = s.Transcoder.DSae, layer = feature / n, i = feature % n;
        float max = 0;
        for (int t = 0; t < s.Tokens; t++) max = Math.Max(max, s.Features[layer][t * n + i]);
        return max;
    }

    private static void WriteJson(string path, ModelFolder bundle, ResolvedPrompt request, CrossLayerTranscoder clt, CrossLayerSplice splice,
        List<AttributionResult> results, double clean, double baselineValue, int k)
    {
        var doc = new
        {
            prompt = request.Prompt,
            tokens = request.Tokens,
            metric = new { description = AttributeCommand.Describe(bundle, request.Metric), position = request.Metric.ResolvePosition(request.Tokens.Length), clean, baseline = baselineValue },
            baseline = request.Baseline.ToString(),
            full_patch_delta = clean - baselineValue,
            transcoder = new { kind = CrossLayerTranscoderFiles.ModelKind, layers = clt.Layers, features_per_layer = clt.DSae, input_hook = clt.InputHook, output_hook = clt.OutputHook },
            methods = results.Select(r => new
            {
                name = r.Method, rules = r.Rules.InForce, rules_in_force = r.Rules.Describe(bundle.Facts.GatedMlp), seconds = r.Seconds, total = r.Total, error_node = r.ErrorNode,
                top = r.Top(k).Select(t => new { layer = t.Feature / clt.DSae, feature = t.Feature % clt.DSae, score = t.Score, activation = MaxActivation(splice, t.Feature) }),
            }),
        };
        JsonOutput.Write(path, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    }
}
