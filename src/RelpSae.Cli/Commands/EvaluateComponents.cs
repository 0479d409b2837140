using System.CommandLine;
using RelpSae.Attribution;
using RelpSae.Model;
using RelpSae.Prompts;
using RelpSae.Reports;
using Spectre.Console;

namespace RelpSae.Cli.Commands;

/// <summary>
/// <c>relp-sae evaluate components</c> (<c>evaluate --level components</c>): every method against ground-truth component patching
/// (the RelP paper's Table 1). No SAE is involved; every prompt needs a corrupted prompt of its length.
/// </summary>
internal static class EvaluateComponents
{
    /// <summary>What this protocol reads besides <see cref="EvaluationRun"/>: patches per pass and the components patched.</summary>
    public sealed record Settings(EvaluationRun Run, int Batch, string? Components);

    public static Settings Bind(ParseResult parse, EvaluateOptions o) => new(o.Bind(parse), parse.GetValue(o.Batch), parse.GetValue(o.Components));

    public static int Run(Settings s, CancellationToken cancel)
    {
        var r = s.Run;
        var (shardIndex, shardCount) = EvaluateCommand.ParseShard(r.Shard);
        var methodList = AttributionMethods.Parse(r.Methods, r.IgSteps);
        EvaluateCommand.CheckBatch(s.Batch);
        if (CliParsing.Baseline(r.Baseline) is { } kind && kind != BaselineKind.Corrupt)
            throw new RelpSaeException("--level components patches each component with its value in the corrupted prompt: --baseline must be auto or corrupt");
        var bundle = ModelFolder.Load(CliDefaults.ExistingFolder(r.Model, "--model"), r.Center, CliDefaults.Holding);
        var selection = ComponentSelection.Parse(s.Components, bundle.Facts);
        var resolver = new PromptResolver(bundle.Transformer, bundle.Tokenizer, CliParsing.Metric(r.Metric), BaselineKind.Corrupt, prependBos: r.Bos);

        var cases = EvaluateCommand.Cases(r.Prompts, r.Task, r.N, r.Seed, bundle);
        var mine = Enumerable.Range(0, cases.Count).Where(i => i % shardCount == shardIndex).ToList();
        var settings = new EvaluateSettings("components", r.Model, null, null, s.Components, r.Prompts, r.Task, r.N, r.Seed,
            [.. methodList.Select(m => m.Name)], r.IgSteps, r.Metric, r.Baseline, null, r.Center, r.Bos);
        using var held = EvaluationOutput<ComponentEvaluation>.Open(r.Output, r.Resume, settings.ToJson(), ComponentFiles.Raw, cases.Count);
        var records = held.Records;
        var patching = new ComponentPatching(bundle.Transformer, methodList, selection, s.Batch);
        bool interrupted = EvaluateCommand.EvaluatePrompts(mine, records, ComponentFiles.Raw, r.Output, cancel, i =>
        {
            if (cases[i].Corrupt is null)
                throw new RelpSaeException($"prompt {i} (\"{cases[i].Prompt}\") has no corrupted prompt: component patching needs one (a \"corrupt\" field, or --task contrastive / ioi)");
            var request = EvaluateCommand.Resolve(resolver, cases[i], i);
            var record = patching.Evaluate(i, request.Prompt, request.Tokens, request.Baseline.CorruptTokens!, request.Metric);
            return (record, $"{record.Components.Length} patches");
        });
        var methods = methodList.Select(m => m.Name).ToList();
        var header = RunHeader.Build($"RelP-SAE component patching: {bundle.Facts.NLayers}-layer model, {records.Count} prompts", r.Parse, bundle.Facts.GatedMlp,
            RunHeader.Model(r.Model),
            RunHeader.Prompts(r.Prompts, r.Task, cases.Count),
            new("patched with", "each component's value in the corrupted prompt, one (component, position) at a time"),
            new("components", s.Components ?? "resid_pre, attn_out, mlp_out, head"),
            RunHeader.Metric(r.Metric),
            RunHeader.Methods(methods),
            new("IG steps", $"{r.IgSteps} per hook (midpoint rule)"));
        header.Save(r.Output);
        var summaries = ComponentFiles.WriteAll(r.Output, records, methods, header);
        EvaluateCommand.Report(r, () => PrintSummary(summaries, records, methods, r.Output));
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
