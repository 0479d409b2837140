using System.CommandLine;
using RelpSae.Attribution;
using RelpSae.Model;
using RelpSae.Prompts;
using RelpSae.Reports;
using Spectre.Console;

namespace RelpSae.Cli.Commands;

/// <summary>
/// <c>relp-sae evaluate --level components</c>: every method against ground-truth component patching
/// (the RelP paper's Table 1). No SAE is involved; every prompt needs a corrupted prompt of its length.
/// </summary>
internal static class EvaluateComponents
{
    /// <summary>The evaluate options this level reads.</summary>
    public sealed record Options(Option<string?> Prompts, Option<string?> Task, Option<int> N, Option<int> Seed, Option<string> Model,
        Option<string> Methods, Option<int> IgSteps, Option<string?> Metric, Option<string?> Baseline, Option<int?> Position, Option<int> Batch,
        Option<string?> Components, Option<string?> Shard, Option<string> Output, Option<bool> Resume, Option<bool> Center, Option<bool> Bos);

    public static int Run(ParseResult parse, CancellationToken cancel, Options o)
    {
        var outDir = parse.GetValue(o.Output)!;
        var (shardIndex, shardCount) = EvaluateCommand.ParseShard(parse.GetValue(o.Shard));
        var methodList = AttributionMethods.Parse(parse.GetValue(o.Methods)!, parse.GetValue(o.IgSteps));
        EvaluateCommand.CheckBatch(parse.GetValue(o.Batch));
        if (CliParsing.Baseline(parse.GetValue(o.Baseline)) is { } kind && kind != BaselineKind.Corrupt)
            throw new RelpSaeException("--level components patches each component with its value in the corrupted prompt: --baseline must be auto or corrupt");
        if (parse.GetValue(o.Position) is not null)
            throw new RelpSaeException("--patch-position is for --level features: components are patched at every position, one at a time");
        var bundle = ModelFolder.Load(CliDefaults.ExistingFolder(CliDefaults.ModelPath(parse.GetValue(o.Model)), "--model"), parse.GetValue(o.Center));
        var selection = ComponentSelection.Parse(parse.GetValue(o.Components), bundle.Facts);
        var resolver = new PromptResolver(bundle.Transformer, bundle.Tokenizer, CliParsing.Metric(parse.GetValue(o.Metric)), BaselineKind.Corrupt,
            prependBos: parse.GetValue(o.Bos));

        var cases = EvaluateCommand.Cases(parse.GetValue(o.Prompts), parse.GetValue(o.Task), parse.GetValue(o.N), parse.GetValue(o.Seed), bundle);
        var mine = Enumerable.Range(0, cases.Count).Where(i => i % shardCount == shardIndex).ToList();
        var settings = new EvaluateSettings("components", CliDefaults.ModelPath(parse.GetValue(o.Model)), null, null, parse.GetValue(o.Components), parse.GetValue(o.Prompts),
            parse.GetValue(o.Task), parse.GetValue(o.N), parse.GetValue(o.Seed), [.. methodList.Select(m => m.Name)], parse.GetValue(o.IgSteps),
            parse.GetValue(o.Metric), parse.GetValue(o.Baseline), null, parse.GetValue(o.Center), parse.GetValue(o.Bos));
        using var held = EvaluationOutput<ComponentEvaluation>.Open(outDir, parse.GetValue(o.Resume), settings.ToJson(), ComponentFiles.RawFile, ComponentFiles.ReadRaw);
        var records = held.Records;
        var patching = new ComponentPatching(bundle.Transformer, methodList, selection, parse.GetValue(o.Batch));
        bool interrupted = EvaluateCommand.EvaluatePrompts(mine, records, r => r.Index, Path.Combine(outDir, ComponentFiles.RawFile), ComponentFiles.ToJsonLine, cancel, i =>
        {
            if (cases[i].Corrupt is null)
                throw new RelpSaeException($"prompt {i} (\"{cases[i].Prompt}\") has no corrupted prompt: component patching needs one (a \"corrupt\" field, or --task contrastive / ioi)");
            var request = EvaluateCommand.Resolve(resolver, cases[i], i);
            var record = patching.Evaluate(i, request.Prompt, request.Tokens, request.Baseline.CorruptTokens!, request.Metric);
            return (record, $"{record.Components.Length} patches");
        });
        var methods = methodList.Select(m => m.Name).ToList();
        var header = RunHeader.Build($"RelP-SAE component patching: {bundle.Facts.NLayers}-layer model, {records.Count} prompts", parse, bundle.Facts.GatedMlp,
            RunHeader.Model(CliDefaults.ModelPath(parse.GetValue(o.Model))),
            RunHeader.Prompts(parse.GetValue(o.Prompts), parse.GetValue(o.Task), cases.Count),
            new("patched with", "each component's value in the corrupted prompt, one (component, position) at a time"),
            new("components", parse.GetValue(o.Components) ?? "resid_pre, attn_out, mlp_out, head"),
            RunHeader.Metric(parse.GetValue(o.Metric)),
            RunHeader.Methods(methods),
            new("IG steps", $"{parse.GetValue(o.IgSteps)} per hook (midpoint rule)"));
        header.Save(outDir);
        var summaries = ComponentFiles.WriteAll(outDir, records, methods, header);
        PrintSummary(summaries, records, methods, outDir);
        return EvaluateCommand.Finish(interrupted, records.Count);
    }

    private static void PrintSummary(IReadOnlyList<ComponentSummary> summaries, List<ComponentEvaluation> records, List<string> methods, string outDir)
    {
        var kinds = Component.Kinds.Where(k => records.Any(r => r.Components.Any(c => c.Kind == k))).ToList();
        var table = new Table().Title("Pearson r of estimate vs true effect").AddColumn("method");
        foreach (var k in kinds) table.AddColumn(Component.TypeName(k));
        table.AddColumn("ms / prompt");
        var (forward, seconds, truth) = ComponentFiles.Seconds(records, methods);
        foreach (var m in methods)
            table.AddRow([m, .. kinds.Select(k => Cell(summaries.Single(s => s.Kind == k && s.Method == m))), $"{(forward + seconds[m]) * 1000:F1}"]);
        table.AddRow(["ground truth", .. kinds.Select(_ => ""), $"{truth * 1000:F1}"]);
        AnsiConsole.Write(table);
        Console.WriteLine($"{records.Count} prompts, {records.Sum(r => r.Components.Length)} patches; results.json, CSVs and report.html in {outDir}");
    }

    private static string Cell(ComponentSummary s) => $"{s.Pearson.Value:F3}";
}
