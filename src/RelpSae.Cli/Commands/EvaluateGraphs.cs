using System.CommandLine;
using System.Diagnostics;
using RelpSae.Attribution;
using RelpSae.Graphs;
using RelpSae.Model;
using RelpSae.Reports;
using RelpSae.Sae;
using Spectre.Console;

namespace RelpSae.Cli.Commands;

/// <summary>
/// <c>relp-sae evaluate graphs</c> (<c>evaluate --graphs</c>): `graph` over a prompt set — each prompt's graph per method,
/// the first method's kept edges measured against patching, each graph's faithfulness curve — pooled into one edges block
/// and mean curves.
/// </summary>
internal static class EvaluateGraphs
{
    /// <summary>What this protocol reads besides <see cref="EvaluationRun"/>: the transcoders and the pruning.</summary>
    public sealed record Settings(EvaluationRun Run, string? Saes, double NodeThreshold, double EdgeThreshold, int MaxFeatureNodes);

    public static Settings Bind(ParseResult parse, EvaluateOptions o)
    {
        // evaluate graphs has the graphs' --saes and --methods; evaluate --graphs has evaluate's, their defaults the circuits' and the attribution methods'.
        string methods = parse.GetResult(o.GraphMethods) is not null ? parse.GetValue(o.GraphMethods)!
            : parse.GetResult(o.Methods) is { Implicit: false } ? parse.GetValue(o.Methods)! : GraphCliOptions.DefaultMethods;
        var run = new EvaluationRun(parse, parse.GetValue(o.Prompts), parse.GetValue(o.Task), parse.GetValue(o.N), parse.GetValue(o.Seed),
            CliDefaults.ModelPath(parse.GetValue(o.Model)), methods, parse.GetValue(o.IgSteps), null, null, parse.GetValue(o.Shard), parse.GetValue(o.Output)!,
            parse.GetValue(o.Resume), false, parse.GetValue(o.Bos), JsonOutput.Target(parse, o.Json));
        var transcoders = parse.GetResult(o.Transcoders) is not null ? parse.GetValue(o.Transcoders) : parse.GetValue(o.Saes);
        return new Settings(run, transcoders, parse.GetValue(o.NodeThreshold), parse.GetValue(o.EdgeThreshold), parse.GetValue(o.MaxFeatureNodes));
    }

    public static int Run(Settings s, CancellationToken cancel)
    {
        var r = s.Run;
        var (shardIndex, shardCount) = EvaluateCommand.ParseShard(r.Shard);
        var methods = GraphCliOptions.MeasuredMethods(r.Methods, null);
        if (methods.Count == 0) throw new RelpSaeException("--methods none measures nothing: evaluate graphs needs at least one graph method");
        GraphCliOptions.Check(s.NodeThreshold, s.EdgeThreshold, s.MaxFeatureNodes);
        int steps = IntegratedGradients.CheckedSteps(r.IgSteps);
        var bundle = ModelFolder.Load(CliDefaults.ExistingFolder(r.Model, "--model"), holding: CliDefaults.Holding);
        var spec = GraphCliOptions.TranscoderSpec(s.Saes);
        var set = GraphDictionaries.Load(spec, bundle.Facts);
        var resolver = new PromptResolver(bundle.Transformer, bundle.Tokenizer, MetricKind.Logit, BaselineKind.Zero, prependBos: r.Bos);

        var cases = EvaluateCommand.Cases(r.Prompts, r.Task, r.N, r.Seed, bundle);
        var mine = Enumerable.Range(0, cases.Count).Where(i => i % shardCount == shardIndex).ToList();
        var pruning = new GraphRunSettings(s.NodeThreshold, s.EdgeThreshold, s.MaxFeatureNodes, GraphDictionaries.AreResidualSaes(set));
        var settings = new EvaluateSettings("graphs", r.Model, string.Join(",", set.Select(t => Path.GetFullPath(t.Source))), null, null, r.Prompts, r.Task,
            r.N, r.Seed, methods, r.IgSteps, "top-logit", "zero", null, false, r.Bos).ToJson();
        settings["node_threshold"] = s.NodeThreshold;
        settings["edge_threshold"] = s.EdgeThreshold;
        settings["max_feature_nodes"] = s.MaxFeatureNodes;
        settings["residual_saes"] = pruning.ResidualSaes;
        using var held = EvaluationOutput<GraphPromptEvaluation>.Open(r.Output, r.Resume, settings, GraphFiles.Raw, cases.Count);
        var records = held.Records;
        var options = new GraphOptions { MaxFeatureNodes = s.MaxFeatureNodes };
        bool interrupted = EvaluateCommand.EvaluatePrompts(mine, records, GraphFiles.Raw, r.Output, cancel, i =>
        {
            var request = EvaluateCommand.Resolve(resolver, cases[i], i);
            var clock = Stopwatch.StartNew();
            var setup = GraphSetup.Create(bundle.Transformer, set, request.Tokens, options);
            var evaluation = GraphEvaluation.Run(setup, methods[0], methods, s.NodeThreshold, s.EdgeThreshold, GraphFaithfulness.DefaultThresholds,
                (m, sameFeaturesAs) => GraphMethod.Build(setup, m, steps, sameFeaturesAs: sameFeaturesAs));
            var record = GraphPromptEvaluation.Of(i, request.Prompt, evaluation, clock.Elapsed.TotalSeconds);
            return (record, $"{record.Edges.Count} edges");
        });
        var header = Header(r, bundle.Facts.GatedMlp, spec, set.Count, cases.Count, methods, pruning);
        header.Save(r.Output);
        var summary = GraphFiles.WriteAll(r.Output, records, methods, header, pruning);
        EvaluateCommand.Report(r, () => PrintSummary(summary, records.Count, r.Output));
        return EvaluateCommand.Finish(interrupted, records.Count);
    }

    private static ReportHeader Header(EvaluationRun r, bool gatedMlp, string spec, int transcoders, int prompts, IReadOnlyList<string> methods, GraphRunSettings pruning) =>
        RunHeader.Build($"RelP-SAE attribution graphs: {transcoders} {(pruning.ResidualSaes ? "residual-stream SAEs" : "transcoders")}, {prompts} prompts", r.Parse, gatedMlp,
            RunHeader.Model(r.Model),
            new(pruning.ResidualSaes ? "SAEs" : "transcoders", RunHeader.Describe(spec, "the embedded transcoders (one per MLP of the embedded model)")),
            RunHeader.Prompts(r.Prompts, r.Task, prompts),
            RunHeader.Methods(methods),
            new("pruning", $"node threshold {pruning.NodeThreshold}, edge threshold {pruning.EdgeThreshold}, at most {pruning.MaxFeatureNodes} feature nodes"),
            new("faithfulness", $"{GraphFaithfulnessJson.Metric}; other nodes ablated to zero"));

    private static void PrintSummary(GraphSummary summary, int prompts, string outDir)
    {
        var table = new Table().Title($"{summary.Edges.Edges} kept edges against patching (all types)").AddColumns("method", "pearson", "spearman", "sign", "relative error");
        foreach (var m in summary.Edges.Methods)
        {
            var all = m.ByType[0].Statistics;
            table.AddRow(m.Method, Markup.Escape($"{all.Pearson.Value:F3} [{all.Pearson.Low:F3}, {all.Pearson.High:F3}]"), $"{all.Spearman.Value:F3}", $"{all.SignAgreement.Value:F3}", $"{all.RelativeError.Value:F3}");
        }
        AnsiConsole.Write(table);
        GraphFaithfulnessLine.Write(Console.Out, "mean faithfulness", summary.Faithfulness);
        Console.WriteLine($"{prompts} prompts; results.json, CSVs and report.html in {outDir}");
    }
}
