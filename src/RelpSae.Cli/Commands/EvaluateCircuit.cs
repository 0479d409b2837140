using System.CommandLine;
using System.Diagnostics;
using RelpSae.Attribution;
using RelpSae.Model;
using RelpSae.Reports;
using RelpSae.Sae;
using Spectre.Console;

namespace RelpSae.Cli.Commands;

/// <summary>
/// <c>relp-sae evaluate circuit</c> (<c>evaluate --circuit</c>): sparse feature circuits (Marks et al.) — SAEs and transcoders at
/// several sites at once, each method's top-n nodes kept and the rest ablated — as faithfulness and completeness curves.
/// </summary>
internal static class EvaluateCircuit
{
    /// <summary>What this protocol reads besides <see cref="EvaluationRun"/>: the SAEs spliced at once and what a node is.</summary>
    public sealed record Settings(EvaluationRun Run, string? Saes, bool PerPosition);

    public static Settings Bind(ParseResult parse, EvaluateOptions o) => new(o.Bind(parse), parse.GetValue(o.Saes), parse.GetValue(o.PerPosition));

    public static int Run(Settings s, CancellationToken cancel)
    {
        var r = s.Run;
        var (shardIndex, shardCount) = EvaluateCommand.ParseShard(r.Shard);
        var methodList = AttributionMethods.Parse(r.Methods, r.IgSteps);
        var bundle = ModelFolder.Load(CliDefaults.ExistingFolder(r.Model, "--model"), r.Center, CliDefaults.Holding);
        var saes = SaeSet.Load(SaeSetOptions.Folders(s.Saes), bundle.Facts);
        var kind = CliParsing.Baseline(r.Baseline);
        var means = kind == BaselineKind.Mean ? saes.Select(x => CliDefaults.FeatureMeansOf(x.Folder)).ToList() : null;
        var resolver = new PromptResolver(bundle.Transformer, bundle.Tokenizer, CliParsing.Metric(r.Metric), kind, means?[0], r.Bos);

        var cases = EvaluateCommand.Cases(r.Prompts, r.Task, r.N, r.Seed, bundle);
        var mine = Enumerable.Range(0, cases.Count).Where(i => i % shardCount == shardIndex).ToList();
        var methods = methodList.Select(m => m.Name).ToList();
        string nodes = s.PerPosition ? "(hook, feature, position)" : "(hook, feature) summed over positions";
        var settings = new EvaluateSettings("circuit", r.Model, string.Join(",", saes.Select(x => Path.GetFullPath(x.Folder))),
            string.Join(",", saes.Select(x => x.Hook.Name)), nodes, r.Prompts, r.Task, r.N, r.Seed,
            methods, r.IgSteps, r.Metric, r.Baseline, null, r.Center, r.Bos);
        using var held = EvaluationOutput<CircuitEvaluation>.Open(r.Output, r.Resume, settings.ToJson(), CircuitFiles.Raw, cases.Count);
        var records = held.Records;
        var patching = new CircuitPatching(bundle.Transformer, methodList, s.PerPosition);
        bool interrupted = EvaluateCommand.EvaluatePrompts(mine, records, CircuitFiles.Raw, r.Output, cancel, i =>
        {
            var request = EvaluateCommand.Resolve(resolver, cases[i], i);
            var clock = Stopwatch.StartNew();
            var splices = MultiSaeSplice.Create(bundle.Transformer, saes, request.Tokens, request.Baseline, means);
            var record = patching.Evaluate(i, request.Prompt, splices, request.Metric, request.Baseline.ToString(), clock.Elapsed.TotalSeconds);
            return (record, $"{record.Nodes} nodes");
        });
        var header = RunHeader.Build($"RelP-SAE sparse feature circuits: {saes.Count} SAEs, {records.Count} prompts", r.Parse, bundle.Facts.GatedMlp,
            RunHeader.Model(r.Model),
            new("SAEs", string.Join(", ", saes.Select(x => $"{x.Label} ({x.Sae.DSae} features)"))),
            new("nodes", nodes + ", and each hook's error node"),
            RunHeader.Prompts(r.Prompts, r.Task, cases.Count),
            RunHeader.Baseline(r.Baseline),
            RunHeader.Metric(r.Metric),
            RunHeader.Methods(methods),
            new("IG steps", $"{r.IgSteps} per hook (midpoint rule)"));
        header.Save(r.Output);
        var summaries = CircuitFiles.WriteAll(r.Output, records, methods, header);
        EvaluateCommand.Report(r, () => PrintSummary(summaries, records, r.Output));
        return EvaluateCommand.Finish(interrupted, records.Count);
    }

    private static void PrintSummary(IReadOnlyList<CircuitSummary> summaries, List<CircuitEvaluation> records, string outDir)
    {
        var table = new Table().Title("circuit curves: areas over log n").AddColumns("method", "faithful.", "complete.", $"n: F ≥ {CircuitSummary.Threshold}", "scores ms", "curves ms");
        foreach (var s in summaries)
        {
            table.AddRow(s.Method, $"{s.FaithfulnessArea.Value:F3}", $"{s.CompletenessArea.Value:F3}", double.IsFinite(s.NAt80.Value) ? $"{s.NAt80.Value:0}" : "never",
                $"{s.ScoreSeconds * 1000:F1}", $"{s.AblationSeconds * 1000:F1}");
        }
        AnsiConsole.Write(table);
        Console.WriteLine($"{records.Count} prompts, {records.Max(r => r.Nodes)} nodes; results.json, CSVs and report.html in {outDir}");
    }
}
