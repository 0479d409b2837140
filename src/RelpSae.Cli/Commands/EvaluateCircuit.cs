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
        var bundle = Gpt2Model.Load(CliDefaults.ExistingFolder(parse.GetValue(o.Model)!, "--model"), parse.GetValue(o.Center));
        var saes = SaeSet.Load(SaeSetOptions.Folders(parse.GetValue(o.Saes)), bundle.Config);
        var kind = CliParsing.Baseline(parse.GetValue(o.Baseline));
        var means = kind == BaselineKind.Mean ? saes.Select(s => FeatureMeans.Load(s.Folder)).ToList() : null;
        var resolver = new PromptResolver(bundle.Transformer, bundle.Tokenizer, CliParsing.Metric(parse.GetValue(o.Metric)), kind,
            means?[0], parse.GetValue(o.Bos));

        var cases = EvaluateCommand.Cases(parse.GetValue(o.Prompts), parse.GetValue(o.Task), parse.GetValue(o.N), parse.GetValue(o.Seed), bundle);
        var mine = Enumerable.Range(0, cases.Count).Where(i => i % shardCount == shardIndex).ToList();
        var records = EvaluateCommand.StartOrResume(outDir, parse.GetValue(o.Resume), CircuitFiles.RawFile, CircuitFiles.ReadRaw);
        var methods = methodList.Select(m => m.Name).ToList();
        bool perPosition = parse.GetValue(o.PerPosition);
        if (records.Count > 0 && (!records[0].Hooks.SequenceEqual(saes.Select(s => s.Hook.Name)) || records[0].PerPosition != perPosition
                                  || methods.Any(m => !records[0].Curves.ContainsKey(m))))
            throw new RelpSaeException($"{outDir} holds a circuit run with other --saes, --per-position or --methods: --resume needs the same ones");
        var patching = new CircuitPatching(bundle.Transformer, methodList, perPosition);
        bool interrupted = EvaluateCommand.EvaluatePrompts(mine, records, r => r.Index, Path.Combine(outDir, CircuitFiles.RawFile), CircuitFiles.ToJsonLine, cancel, i =>
        {
            var request = EvaluateCommand.Resolve(resolver, cases[i], i);
            var clock = Stopwatch.StartNew();
            var splices = MultiSaeSplice.Create(bundle.Transformer, saes, request.Tokens, request.Baseline, means);
            var record = patching.Evaluate(i, request.Prompt, splices, request.Metric, request.Baseline.ToString(), clock.Elapsed.TotalSeconds);
            return (record, $"{record.Nodes} nodes");
        });
        CircuitFiles.WriteAll(outDir, records, methods, $"RelP-SAE sparse feature circuits: {saes.Count} SAEs, {records.Count} prompts");
        PrintSummary(records, methods, outDir);
        return EvaluateCommand.Finish(interrupted, records.Count);
    }

    private static void PrintSummary(List<CircuitEvaluation> records, List<string> methods, string outDir)
    {
        var table = new Table().Title("circuit curves: areas over log n").AddColumns("method", "faithful.", "complete.", $"n: F ≥ {CircuitSummary.Threshold}", "scores ms", "curves ms");
        foreach (var m in methods)
        {
            var s = CircuitSummary.Summarize(m, records, resamples: 0);
            table.AddRow(m, $"{s.FaithfulnessArea.Value:F3}", $"{s.CompletenessArea.Value:F3}", double.IsFinite(s.NAt80.Value) ? $"{s.NAt80.Value:0}" : "never",
                $"{s.ScoreSeconds * 1000:F1}", $"{s.AblationSeconds * 1000:F1}");
        }
        AnsiConsole.Write(table);
        Console.WriteLine($"{records.Count} prompts, {records.Max(r => r.Nodes)} nodes; results.json, CSVs and report.html in {outDir}");
    }
}
