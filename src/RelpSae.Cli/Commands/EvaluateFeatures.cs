using System.CommandLine;
using RelpSae.Attribution;
using RelpSae.Reports;
using RelpSae.Sae;
using Spectre.Console;

namespace RelpSae.Cli.Commands;

/// <summary>
/// <c>relp-sae evaluate features</c> (<c>evaluate</c>, <c>--level features</c>): each method against
/// ground-truth patching of the single SAE features active in each prompt.
/// </summary>
internal static class EvaluateFeatures
{
    /// <summary>What this protocol reads besides <see cref="EvaluationRun"/>: the SAE, where to patch, features per pass.</summary>
    public sealed record Settings(EvaluationRun Run, string Sae, int? Position, int Batch);

    public static Settings Bind(ParseResult parse, EvaluateOptions o) =>
        new(o.Bind(parse), CliDefaults.SaePath(parse.GetValue(o.Sae)), parse.GetValue(o.Position), parse.GetValue(o.Batch));

    public static int Run(Settings s, CancellationToken cancel)
    {
        var r = s.Run;
        var (shardIndex, shardCount) = EvaluateCommand.ParseShard(r.Shard);
        var methodList = AttributionMethods.Parse(r.Methods, r.IgSteps);
        EvaluateCommand.CheckBatch(s.Batch);
        var setup = AttributionSetup.Load(r.Model, s.Sae, r.Center, r.Baseline, r.Metric, r.Bos);
        var (bundle, autoencoder, hook, resolver) = (setup.Bundle, setup.Sae, setup.Hook, setup.Resolver);

        var cases = EvaluateCommand.Cases(r.Prompts, r.Task, r.N, r.Seed, bundle);
        var mine = Enumerable.Range(0, cases.Count).Where(i => i % shardCount == shardIndex).ToList();
        var runner = new FaithfulnessRunner(methodList, new GroundTruth(s.Batch), s.Position);
        // Every prompt resolves and fits the patch position before --out is touched.
        foreach (int i in mine) runner.CheckPosition(EvaluateCommand.Resolve(resolver, cases[i], i).Tokens.Length);
        var settings = new EvaluateSettings("features", r.Model, s.Sae, hook.Name, null, r.Prompts, r.Task, r.N, r.Seed,
            [.. methodList.Select(m => m.Name)], r.IgSteps, r.Metric, r.Baseline, s.Position, r.Center, r.Bos);
        using var held = EvaluationOutput<PromptEvaluation>.Open(r.Output, r.Resume, settings.ToJson(), EvaluationFiles.Raw, cases.Count);
        var records = held.Records;
        bool interrupted = EvaluateCommand.EvaluatePrompts(mine, records, EvaluationFiles.Raw, r.Output, cancel, i =>
        {
            var request = EvaluateCommand.Resolve(resolver, cases[i], i);
            var splice = setup.Splice(request.Tokens, request.Baseline);
            // The metric is recorded with its tokens' texts, so report captions name the target and foil.
            var record = runner.Evaluate(i, request.Prompt, splice, request.Metric) with { Metric = AttributeCommand.Describe(bundle, request.Metric) };
            return (record, $"{record.Features.Length} features");
        });
        var header = RunHeader.Build($"RelP-SAE faithfulness of SAE-feature attribution at {hook}", r.Parse, bundle.Facts.GatedMlp,
            RunHeader.Model(r.Model),
            new("SAE", RunHeader.Describe(s.Sae, $"the embedded SAE ({autoencoder.DSae} features)")),
            new("hook", hook.ToString()),
            RunHeader.Prompts(r.Prompts, r.Task, cases.Count),
            RunHeader.Baseline(r.Baseline),
            RunHeader.Metric(r.Metric),
            RunHeader.Methods(methodList.Select(m => m.Name)),
            new("IG steps", $"{r.IgSteps} (midpoint rule)"),
            new("patched at", s.Position is { } p ? $"position {p}" : "every position"));
        header.Save(r.Output);
        var summaries = EvaluationFiles.WriteAll(r.Output, records, methodList.Select(m => m.Name).ToList(), header);
        EvaluateCommand.Report(r, () => PrintSummary(summaries, records, r.Output));
        return EvaluateCommand.Finish(interrupted, records.Count);
    }

    private static void PrintSummary(IReadOnlyList<MethodSummary> summaries, List<PromptEvaluation> records, string outDir)
    {
        var table = new Table().AddColumns("method", "Pearson r", "Spearman ρ", "top-5", "top-10", "sign agr.", "ms / prompt");
        foreach (var s in summaries)
            table.AddRow(s.Name, $"{s.Pearson.Value:F3}", $"{s.Spearman.Value:F3}", $"{s.Top5.Value:F3}", $"{s.Top10.Value:F3}", $"{s.SignAgreement.Value:F3}", $"{s.SecondsPerPrompt * 1e3:F2}");
        table.AddRow("ground truth", "", "", "", "", "", $"{records.Average(r => r.TruthSeconds) * 1e3:F2}");
        AnsiConsole.Write(table);
        Console.WriteLine($"{records.Count} prompts; results.json, CSVs and report.html in {outDir}");
    }
}
