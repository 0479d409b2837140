using System.CommandLine;
using System.Diagnostics;
using RelpSae.Attribution;
using RelpSae.Model;
using RelpSae.Reports;
using RelpSae.Sae;
using Spectre.Console;

namespace RelpSae.Cli.Commands;

/// <summary>
/// <c>relp-sae evaluate --circuit</c>: sparse feature circuits (Marks et al.) — SAEs at several hooks at
/// once, each method's top-n nodes kept and the rest ablated — as faithfulness and completeness curves.
/// </summary>
internal static class EvaluateCircuit
{
    /// <summary>The evaluate options this protocol reads.</summary>
    public sealed record Options(Option<string?> Prompts, Option<string?> Task, Option<int> N, Option<int> Seed, Option<string> Model,
        Option<string?> Saes, Option<bool> PerPosition, Option<string> Methods, Option<int> IgSteps, Option<string?> Metric, Option<string?> Baseline,
        Option<int?> Position, Option<string?> Shard, Option<string> Output, Option<bool> Resume, Option<bool> Center, Option<bool> Bos);

    public static int Run(ParseResult parse, CancellationToken cancel, Options o)
    {
        var outDir = parse.GetValue(o.Output)!;
        var (shardIndex, shardCount) = EvaluateCommand.ParseShard(parse.GetValue(o.Shard));
        var methodList = AttributionMethods.Parse(parse.GetValue(o.Methods)!, parse.GetValue(o.IgSteps));
        if (parse.GetValue(o.Position) is not null)
            throw new RelpSaeException("--patch-position is for --level features: a circuit ablates nodes at every position (see --per-position)");
        var bundle = ModelFolder.Load(CliDefaults.ExistingFolder(CliDefaults.ModelPath(parse.GetValue(o.Model)), "--model"), parse.GetValue(o.Center));
        var saes = SaeSet.Load(SaeSetOptions.Folders(parse.GetValue(o.Saes)), bundle.Facts);
        var kind = CliParsing.Baseline(parse.GetValue(o.Baseline));
        var means = kind == BaselineKind.Mean ? saes.Select(s => CliDefaults.FeatureMeansOf(s.Folder)).ToList() : null;
        var resolver = new PromptResolver(bundle.Transformer, bundle.Tokenizer, CliParsing.Metric(parse.GetValue(o.Metric)), kind,
            means?[0], parse.GetValue(o.Bos));

        var cases = EvaluateCommand.Cases(parse.GetValue(o.Prompts), parse.GetValue(o.Task), parse.GetValue(o.N), parse.GetValue(o.Seed), bundle);
        var mine = Enumerable.Range(0, cases.Count).Where(i => i % shardCount == shardIndex).ToList();
        var methods = methodList.Select(m => m.Name).ToList();
        bool perPosition = parse.GetValue(o.PerPosition);
        string nodes = perPosition ? "(hook, feature, position)" : "(hook, feature) summed over positions";
        var settings = new EvaluateSettings("circuit", CliDefaults.ModelPath(parse.GetValue(o.Model)), string.Join(",", saes.Select(s => Path.GetFullPath(s.Folder))),
            string.Join(",", saes.Select(s => s.Hook.Name)), nodes, parse.GetValue(o.Prompts), parse.GetValue(o.Task), parse.GetValue(o.N), parse.GetValue(o.Seed),
            methods, parse.GetValue(o.IgSteps), parse.GetValue(o.Metric), parse.GetValue(o.Baseline), null, parse.GetValue(o.Center), parse.GetValue(o.Bos));
        using var held = EvaluationOutput<CircuitEvaluation>.Open(outDir, parse.GetValue(o.Resume), settings.ToJson(), CircuitFiles.RawFile, CircuitFiles.ReadRaw);
        var records = held.Records;
        var patching = new CircuitPatching(bundle.Transformer, methodList, perPosition);
        bool interrupted = EvaluateCommand.EvaluatePrompts(mine, records, r => r.Index, Path.Combine(outDir, CircuitFiles.RawFile), CircuitFiles.ToJsonLine, cancel, i =>
        {
            var request = EvaluateCommand.Resolve(resolver, cases[i], i);
            var clock = Stopwatch.StartNew();
            var splices = MultiSaeSplice.Create(bundle.Transformer, saes, request.Tokens, request.Baseline, means);
            var record = patching.Evaluate(i, request.Prompt, splices, request.Metric, request.Baseline.ToString(), clock.Elapsed.TotalSeconds);
            return (record, $"{record.Nodes} nodes");
        });
        var header = RunHeader.Build($"RelP-SAE sparse feature circuits: {saes.Count} SAEs, {records.Count} prompts", parse, bundle.Facts.GatedMlp,
            RunHeader.Model(CliDefaults.ModelPath(parse.GetValue(o.Model))),
            new("SAEs", string.Join(", ", saes.Select(s => $"{s.Hook} ({s.Sae.DSae} features)"))),
            new("nodes", nodes + ", and each hook's error node"),
            RunHeader.Prompts(parse.GetValue(o.Prompts), parse.GetValue(o.Task), cases.Count),
            RunHeader.Baseline(parse.GetValue(o.Baseline)),
            RunHeader.Metric(parse.GetValue(o.Metric)),
            RunHeader.Methods(methods),
            new("IG steps", $"{parse.GetValue(o.IgSteps)} per hook (midpoint rule)"));
        header.Save(outDir);
        var summaries = CircuitFiles.WriteAll(outDir, records, methods, header);
        PrintSummary(summaries, records, outDir);
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
