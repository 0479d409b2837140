using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using RelpSae.Attribution;
using RelpSae.Interventions;
using RelpSae.Model;
using RelpSae.Numerics;
using RelpSae.Prompts;
using RelpSae.Sae;
using RelpSae.Text;
using Spectre.Console;

namespace RelpSae.Cli.Commands;

/// <summary>
/// <c>relp-sae attribute</c>: which SAE features caused this prediction, by each method, with completeness; of the model with
/// feature interventions (--steer, --clamp, --ablate) in force when given.
/// </summary>
public static class AttributeCommand
{
    public static Command Create()
    {
        var prompt = new Option<string>("--prompt") { Description = "The prompt whose next-token prediction is explained." };
        var promptIds = new Option<string?>("--prompt-ids") { Description = "The prompt as comma-separated token ids (for a model whose tokenizer is not at hand)." };
        var corruptIds = new Option<string?>("--corrupt-ids") { Description = "The corrupted prompt as comma-separated token ids." };
        var model = CliDefaults.ModelOption();
        var sae = CliDefaults.SaeOption(transcoders: true);
        var target = new Option<string?>("--target") { Description = "Target token: a text that is exactly one token, or a token id. [default: the model's top prediction]" };
        var foil = new Option<string?>("--foil") { Description = "Foil token for the logit difference target − foil." };
        var metric = new Option<string?>("--metric") { Description = "logit | logit-diff | logprob. [default: logit-diff with a foil or corrupted prompt, else logit]" };
        var position = new Option<int>("--position") { Description = "Position the metric is read at (−1 = last).", DefaultValueFactory = _ => -1 };
        var baseline = new Option<string?>("--baseline") { Description = "auto | zero | mean | corrupt: what features are patched to (auto: the corrupted prompt if given, else zero). [default: auto]" };
        var corrupt = new Option<string?>("--corrupt") { Description = "Corrupted prompt of the same token length (the corrupt baseline)." };
        var methods = new Option<string>("--methods") { Description = $"Comma list: {AttributionMethods.Names}.", DefaultValueFactory = _ => "gradient,ig,relp" };
        var igSteps = new Option<int>("--ig-steps") { Description = $"Integrated-gradients steps (at most {IntegratedGradients.MaxSteps}).", DefaultValueFactory = _ => 32 };
        var quadrature = new Option<string>("--ig-rule") { Description = "midpoint | gauss-legendre.", DefaultValueFactory = _ => "midpoint" };
        var top = new Option<int>("--top") { Description = "Features shown per method.", DefaultValueFactory = _ => 5 };
        var json = JsonOutput.Option("the results");
        var truncate = new Option<bool>("--truncate") { Description = "Keep the last n_positions tokens of a prompt longer than the context instead of failing." };
        var saes = SaeSetOptions.SaesOption();
        var perPosition = SaeSetOptions.PerPositionOption();
        var dot = new Option<string?>("--dot") { Description = "With --saes: also write the first method's top nodes per layer as a Graphviz DOT file." };
        var center = CliDefaults.CenterOption();
        var bos = CliDefaults.PrependBosOption();
        var command = new Command("attribute", "Attribute the model's prediction to SAE features with gradient, integrated gradients and RelP.")
        {
            prompt, promptIds, corruptIds, model, sae, target, foil, metric, position, baseline, corrupt, methods, igSteps, quadrature, top, json, truncate, center, bos,
            saes, perPosition, dot,
        };
        var changes = new InterventionOptions();
        foreach (var option in changes.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            var interventions = changes.Parse(parse);
            int k = parse.GetValue(top) > 0 ? parse.GetValue(top) : throw new RelpSaeException($"--top must be positive, got {parse.GetValue(top)}");
            var methodList = AttributionMethods.Parse(parse.GetValue(methods)!, parse.GetValue(igSteps), CliParsing.Quadrature(parse.GetValue(quadrature)!));
            var promptCase = Case(parse, prompt, promptIds, target, foil, corrupt, corruptIds);
            if (parse.GetValue(saes) is { } saeSet)
            {
                return AttributeCircuit.Run(new(ModelFolder.Load(CliDefaults.ExistingFolder(CliDefaults.ModelPath(parse.GetValue(model)), "--model"), parse.GetValue(center), CliDefaults.Holding),
                    saeSet, parse.GetValue(perPosition), promptCase, parse.GetValue(baseline), parse.GetValue(metric), parse.GetValue(bos),
                    parse.GetValue(position), parse.GetValue(truncate), methodList, k, JsonOutput.Target(parse, json), parse.GetValue(dot), interventions));
            }
            if (parse.GetValue(perPosition) || parse.GetValue(dot) is not null) throw new RelpSaeException("--per-position and --dot need --saes");
            string saeName = CliDefaults.SaePath(parse.GetValue(sae));
            if (AttributeCrossLayer.Names(saeName))
            {
                if (interventions.Count > 0) throw new RelpSaeException("--steer, --clamp and --ablate go with an SAE or a single-layer transcoder; a cross-layer transcoder's features cannot be changed yet");
                return AttributeCrossLayer.Run(new(CliDefaults.ModelPath(parse.GetValue(model)), saeName, parse.GetValue(center), parse.GetValue(baseline), parse.GetValue(metric),
                    parse.GetValue(bos), parse.GetValue(position), parse.GetValue(truncate), promptCase, methodList, k, JsonOutput.Target(parse, json)));
            }
            var setup = AttributionSetup.Load(CliDefaults.ModelPath(parse.GetValue(model)), saeName, parse.GetValue(center), parse.GetValue(baseline),
                parse.GetValue(metric), parse.GetValue(bos), parse.GetValue(position), parse.GetValue(truncate), promptCase, interventions);
            var (bundle, autoencoder, hook) = (setup.Bundle, setup.Sae, setup.Hook);
            var request = setup.Resolver.Resolve(promptCase);
            if (promptCase.PromptIds is null && bundle.Tokenizer is { } tokenizer
                && CharacterSplit.Note(promptCase.Prompt, tokenizer.Encode(promptCase.Prompt).Length, CliDefaults.IsEmbedded(bundle.Dir) ? "the embedded model" : bundle.Dir) is { } note)
                Console.Error.WriteLine($"note: {note}");

            var splice = setup.Splice(request.Tokens, request.Baseline);
            // Each method runs once on the last token alone first, so the times shown are the methods' and not the JIT compiler's.
            var warm = setup.Splice(request.Tokens[^1..], request.Baseline with { CorruptTokens = request.Baseline.CorruptTokens?[^1..] });
            foreach (var m in methodList) Attributor.Run(m, warm, request.Metric with { Position = -1 });
            var results = methodList.Select(m => Attributor.Run(m, splice, request.Metric)).ToList();
            double clean = splice.MetricAt(splice.Clean, request.Metric), baselineValue = splice.MetricAt(splice.BaselineActivation, request.Metric);
            Print(bundle, request, splice, setup.Site, results, clean, baselineValue, k, FeatureDescriptions(setup.SaeDir, autoencoder.DSae), interventions);
            if (JsonOutput.Target(parse, json) is { } path) WriteJson(path, bundle, request, splice, results, clean, baselineValue, k, interventions);
            return 0;
        });
        return command;
    }

    /// <summary>The case from --prompt / --prompt-ids (one of them) and the target, foil and corrupted prompt.</summary>
    private static PromptCase Case(ParseResult parse, Option<string> prompt, Option<string?> promptIds, Option<string?> target, Option<string?> foil,
        Option<string?> corrupt, Option<string?> corruptIds)
    {
        string? text = parse.GetValue(prompt), ids = parse.GetValue(promptIds);
        if ((text is null) == (ids is null)) throw new RelpSaeException("give the prompt as --prompt TEXT or --prompt-ids IDS (one of them)");
        string? t = StrictText.Valid(parse.GetValue(target), "--target"), f = StrictText.Valid(parse.GetValue(foil), "--foil");
        if (text is not null)
        {
            if (parse.GetValue(corruptIds) is not null) throw new RelpSaeException("--corrupt-ids goes with --prompt-ids; with --prompt give --corrupt TEXT");
            return new PromptCase(StrictText.Valid(text, "--prompt"), t, f, StrictText.Valid(parse.GetValue(corrupt), "--corrupt"));
        }
        if (parse.GetValue(corrupt) is not null) throw new RelpSaeException("--corrupt goes with --prompt; with --prompt-ids give --corrupt-ids IDS");
        return PromptCase.FromIds(CliParsing.TokenIds(ids!), t, f,
            parse.GetValue(corruptIds) is { } c ? CliParsing.TokenIds(c, option: "--corrupt-ids") : null);
    }

    /// <summary>What the table says of a feature: its best context from a dashboard file (relp-sae features) beside the SAE, else its top tokens from the feature summaries, else nothing.</summary>
    private static (string Heading, Func<int, string> Of) FeatureDescriptions(string saeDir, int dSae)
    {
        if (Dashboards.DashboardFile.Snippets(saeDir, dSae) is { } snippets) return ("best context", f => snippets[f]);
        var summaries = FeatureSummaries.Load(saeDir, dSae);
        return ("top tokens", f => summaries?.Describe(f) ?? "");
    }

    internal static string Describe(ModelFolder bundle, Metric m) => m.Kind switch
    {
        MetricKind.Logit => $"logit of {Token(bundle, m.Target)}",
        MetricKind.LogitDiff => $"logit {Token(bundle, m.Target)} − logit {Token(bundle, m.Foil)}",
        _ => $"log-probability of {Token(bundle, m.Target)}",
    };

    private static string Token(ModelFolder bundle, int id) => $"\"{bundle.TokenText(id)}\" ({id})";

    /// <summary>The feature's largest clean activation over the prompt's positions.</summary>
    private static float MaxActivation(SaeSplice s, int feature)
    {
        float max = 0;
        for (int t = 0; t < s.Tokens; t++) max = Math.Max(max, s.Features[t * s.Sae.DSae + feature]);
        return max;
    }

    private static void Print(ModelFolder bundle, ResolvedPrompt request, SaeSplice splice, string site, List<AttributionResult> results,
        double clean, double baselineValue, int k, (string Heading, Func<int, string> Of) describe, IReadOnlyList<FeatureIntervention> interventions)
    {
        int active = GroundTruth.ActiveFeatures(splice).Length;
        PrintHeader(bundle, request, clean, baselineValue);
        Console.WriteLine($"SAE       {site}, {splice.Sae.DSae} features, {active} active in the clean or baseline run");
        if (interventions.Count > 0)
            Console.WriteLine($"changed   {string.Join(", ", interventions)} (in the model attributed, at every position; a corrupted prompt runs through it too)");
        foreach (var r in results)
        {
            var table = new Table().Title(Markup.Escape($"{r.Method}  ({r.Seconds * 1000:F1} ms, rules {r.Rules.Describe(bundle.Facts.GatedMlp)})"))
                .AddColumns("feature", "score", "max act", describe.Heading);
            foreach (var (feature, score) in r.Top(k))
                table.AddRow($"#{feature}", $"{score:F4}", $"{MaxActivation(splice, feature):F3}", Markup.Escape(describe.Of(feature)));
            AnsiConsole.Write(table);
        }
        PrintCompleteness(results, clean - baselineValue);
    }

    /// <summary>The weights' width, the prompt's tokens, the metric and the baseline: the lines every attribution report opens with.</summary>
    internal static void PrintHeader(ModelFolder bundle, ResolvedPrompt request, double clean, double baselineValue)
    {
        var tokens = string.Join(" ", request.Tokens.Select(id => $"\"{bundle.TokenText(id)}\""));
        if (bundle.Memory.Holding == PanelElement.BFloat16)
            Console.WriteLine("weights   bfloat16 (--dtype bf16: float32 weight matrices rounded at load, so not the float32 model's exact scores)");
        Console.WriteLine($"prompt    {tokens} ({request.Tokens.Length} tokens)");
        Console.WriteLine($"metric    {Describe(bundle, request.Metric)} at position {request.Metric.ResolvePosition(request.Tokens.Length)}: {clean:F4}");
        Console.WriteLine($"baseline  {request.Baseline}: metric {baselineValue:F4}, full-patch Δm = m(clean) − m(baseline) = {clean - baselineValue:F4}");
    }

    internal static void PrintCompleteness(IEnumerable<AttributionResult> results, double delta)
    {
        Console.WriteLine("completeness (Σ scores + error node vs the full-patch Δm):");
        foreach (var r in results)
            Console.WriteLine($"  {r.Method,-10} {r.Total,9:F4} + {r.ErrorNode,8:F4} = {r.Total + r.ErrorNode,9:F4}   vs Δm {delta:F4}");
    }

    private static void WriteJson(string path, ModelFolder bundle, ResolvedPrompt request, SaeSplice splice, List<AttributionResult> results,
        double clean, double baselineValue, int k, IReadOnlyList<FeatureIntervention> interventions)
    {
        var m = request.Metric;
        var doc = new
        {
            prompt = request.Prompt,
            tokens = request.Tokens,
            metric = new
            {
                kind = m.Kind switch { MetricKind.Logit => "logit", MetricKind.LogitDiff => "logit-diff", _ => "logprob" },
                target = m.Target, target_text = bundle.TokenText(m.Target),
                foil = m.Kind == MetricKind.LogitDiff ? m.Foil : (int?)null,
                position = m.ResolvePosition(request.Tokens.Length), clean, baseline = baselineValue,
            },
            baseline = request.Baseline.ToString(),
            full_patch_delta = clean - baselineValue,
            interventions = InterventionOptions.Json(interventions),
            methods = results.Select(r => new
            {
                name = r.Method, rules = r.Rules.InForce, rules_in_force = r.Rules.Describe(bundle.Facts.GatedMlp), seconds = r.Seconds, total = r.Total, error_node = r.ErrorNode,
                top = r.Top(k).Select(t => new { feature = t.Feature, score = t.Score, activation = MaxActivation(splice, t.Feature) }),
            }),
            weights_bytes = bundle.Memory.TotalBytes,
            weights_held = bundle.Memory.Holding is { } held ? MemoryEstimate.Name(held) : "as stored",
        };
        JsonOutput.Write(path, JsonSerializer.Serialize(doc, new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
    }
}
