using System.CommandLine;
using RelpSae.Attribution;
using RelpSae.Model;
using RelpSae.Prompts;
using RelpSae.Reports;
using RelpSae.Sae;
using RelpSae.Text;
using Spectre.Console;

namespace RelpSae.Cli.Commands;

/// <summary>
/// <c>relp-sae evaluate</c>: each method against ground-truth patching over a prompt set — of single SAE
/// features (<c>--level features</c>) or of whole components (<c>--level components</c>, the RelP
/// paper's protocol) — written as results.json, one CSV per method and report.html. Resumable and shardable.
/// </summary>
public static class EvaluateCommand
{
    public static Command Create()
    {
        var prompts = new Option<string?>("--prompts") { Description = "JSONL prompt file: {\"prompt\", \"target\", \"foil\", \"corrupt\"} per line." };
        var task = new Option<string?>("--task") { Description = "Built-in prompt set: ioi (GPT-2 tokenizer) or contrastive (the default model). [default: contrastive]" };
        var n = new Option<int>("--n") { Description = "Number of prompts of a built-in task.", DefaultValueFactory = _ => 60 };
        var seed = new Option<int>("--seed") { Description = "Seed of the IOI generator.", DefaultValueFactory = _ => 0 };
        var model = CliDefaults.ModelOption();
        var sae = CliDefaults.SaeOption();
        var methods = new Option<string>("--methods") { Description = $"Comma list: {AttributionMethods.Names}.", DefaultValueFactory = _ => "gradient,ig,relp,relp-ah" };
        var igSteps = new Option<int>("--ig-steps") { Description = $"Integrated-gradients steps (at most {IntegratedGradients.MaxSteps}).", DefaultValueFactory = _ => 32 };
        var metric = new Option<string?>("--metric") { Description = "logit | logit-diff | logprob. [default: logit-diff with a foil or corrupted prompt, else logit]" };
        var baseline = new Option<string?>("--baseline") { Description = "auto | zero | mean | corrupt: what features are patched to (auto: the corrupted prompt if given, else zero). [default: auto]" };
        var position = new Option<int?>("--patch-position") { Description = "Patch features at this position only. [default: at every position]" };
        var batch = new Option<int>("--batch") { Description = "Features (or components) patched per ground-truth forward pass.", DefaultValueFactory = _ => 32 };
        var level = new Option<string>("--level") { Description = "features: patch single SAE features; components: patch each resid_pre, attn_out, mlp_out and head output at each position with its corrupted-run value.", DefaultValueFactory = _ => "features" };
        var components = new Option<string?>("--components") { Description = "With --level components: comma list of types (resid_pre, attn_out, mlp_out, head) or hooks (blocks.L.hook_mlp_out, blocks.L.attn.hook_z, ...). [default: all]" };
        var circuit = new Option<bool>("--circuit") { Description = "Sparse feature circuits: splice the SAEs of --saes at once; keep each method's top-n nodes (n = 1, 2, 4, … all) and ablate the rest; faithfulness and completeness curves." };
        var saes = SaeSetOptions.SaesOption();
        var perPosition = SaeSetOptions.PerPositionOption();
        var shard = new Option<string?>("--shard") { Description = "i/n: evaluate only prompts whose index is i modulo n (for job arrays; combine with merge)." };
        var output = new Option<string>("--out") { Description = "Output folder.", Required = true };
        var resume = new Option<bool>("--resume") { Description = "Continue an interrupted run in --out, skipping prompts already evaluated." };
        var center = CliDefaults.CenterOption();
        var bos = CliDefaults.PrependBosOption();
        var command = new Command("evaluate", "Measure each method's faithfulness against ground-truth patching of SAE features or of whole components over a prompt set.")
        {
            prompts, task, n, seed, model, sae, methods, igSteps, metric, baseline, position, batch, level, components, shard, output, resume, center, bos,
            circuit, saes, perPosition,
        };
        command.SetAction((parse, cancel) =>
        {
            var chosen = parse.GetValue(level)!.ToLowerInvariant();
            if (parse.GetValue(circuit))
            {
                if (chosen != "features" || parse.GetValue(components) is not null) throw new RelpSaeException("--circuit is its own protocol: leave out --level and --components");
                if (parse.GetValue(sae) is not null) throw new RelpSaeException("--circuit splices the SAEs of --saes (a comma list or a folder of SAE folders), not --sae");
                // Each curve point is already one batched pass over every kept set, so there is nothing for --batch to size.
                if (parse.GetResult(batch) is { Implicit: false }) throw new RelpSaeException("--batch sizes feature and component patching; --circuit batches each prompt's curve by itself");
                return Task.FromResult(EvaluateCircuit.Run(parse, cancel, new(prompts, task, n, seed, model, saes, perPosition, methods, igSteps, metric, baseline, position, shard, output, resume, center, bos)));
            }
            if (parse.GetValue(saes) is not null || parse.GetValue(perPosition)) throw new RelpSaeException("--saes and --per-position need --circuit (or attribute)");
            if (chosen == "components")
                return Task.FromResult(EvaluateComponents.Run(parse, cancel, new(prompts, task, n, seed, model, methods, igSteps, metric, baseline, position, batch, components, shard, output, resume, center, bos)));
            if (chosen != "features") throw new RelpSaeException($"--level must be features or components, got \"{parse.GetValue(level)}\"");
            if (parse.GetValue(components) is not null) throw new RelpSaeException("--components needs --level components");
            return Task.FromResult(Run(parse, cancel, prompts, task, n, seed, model, sae, methods, igSteps, metric, baseline, position, batch, shard, output, resume, center, bos));
        });
        return command;
    }

    private static int Run(ParseResult parse, CancellationToken cancel, Option<string?> prompts, Option<string?> task, Option<int> n, Option<int> seed,
        Option<string> model, Option<string> sae, Option<string> methods, Option<int> igSteps, Option<string?> metric, Option<string?> baseline,
        Option<int?> position, Option<int> batch, Option<string?> shard, Option<string> output, Option<bool> resume, Option<bool> center, Option<bool> bos)
    {
        var outDir = parse.GetValue(output)!;
        var (shardIndex, shardCount) = ParseShard(parse.GetValue(shard));
        var methodList = AttributionMethods.Parse(parse.GetValue(methods)!, parse.GetValue(igSteps));
        CheckBatch(parse.GetValue(batch));
        var setup = AttributionSetup.Load(CliDefaults.ModelPath(parse.GetValue(model)), CliDefaults.SaePath(parse.GetValue(sae)), parse.GetValue(center), parse.GetValue(baseline),
            parse.GetValue(metric), parse.GetValue(bos));
        var (bundle, autoencoder, hook, resolver) = (setup.Bundle, setup.Sae, setup.Hook, setup.Resolver);
        var saeDir = CliDefaults.SaePath(parse.GetValue(sae));

        var cases = Cases(parse.GetValue(prompts), parse.GetValue(task), parse.GetValue(n), parse.GetValue(seed), bundle);
        var mine = Enumerable.Range(0, cases.Count).Where(i => i % shardCount == shardIndex).ToList();
        var runner = new FaithfulnessRunner(methodList, new GroundTruth(parse.GetValue(batch)), parse.GetValue(position));
        // Every prompt resolves and fits the patch position before --out is touched.
        foreach (int i in mine) runner.CheckPosition(Resolve(resolver, cases[i], i).Tokens.Length);
        var settings = new EvaluateSettings("features", CliDefaults.ModelPath(parse.GetValue(model)), saeDir, hook.Name, null, parse.GetValue(prompts), parse.GetValue(task),
            parse.GetValue(n), parse.GetValue(seed), [.. methodList.Select(m => m.Name)], parse.GetValue(igSteps), parse.GetValue(metric),
            parse.GetValue(baseline), parse.GetValue(position), parse.GetValue(center), parse.GetValue(bos));
        using var held = EvaluationOutput<PromptEvaluation>.Open(outDir, parse.GetValue(resume), settings.ToJson(), EvaluationFiles.RawFile, EvaluationFiles.ReadRaw);
        var records = held.Records;
        bool interrupted = EvaluatePrompts(mine, records, r => r.Index, Path.Combine(outDir, EvaluationFiles.RawFile), EvaluationFiles.ToJsonLine, cancel, i =>
        {
            var request = Resolve(resolver, cases[i], i);
            var splice = SaeSplice.Create(bundle.Transformer, autoencoder, hook, request.Tokens, request.Baseline);
            // The metric is recorded with its tokens' texts, so report captions name the target and foil.
            var record = runner.Evaluate(i, request.Prompt, splice, request.Metric) with { Metric = AttributeCommand.Describe(bundle, request.Metric) };
            return (record, $"{record.Features.Length} features");
        });
        var header = RunHeader.Build($"RelP-SAE faithfulness of SAE-feature attribution at {hook}", parse, bundle.Facts.GatedMlp,
            RunHeader.Model(CliDefaults.ModelPath(parse.GetValue(model))),
            new("SAE", RunHeader.Describe(saeDir, $"the embedded SAE ({autoencoder.DSae} features)")),
            new("hook", hook.ToString()),
            RunHeader.Prompts(parse.GetValue(prompts), parse.GetValue(task), cases.Count),
            RunHeader.Baseline(parse.GetValue(baseline)),
            RunHeader.Metric(parse.GetValue(metric)),
            RunHeader.Methods(methodList.Select(m => m.Name)),
            new("IG steps", $"{parse.GetValue(igSteps)} (midpoint rule)"),
            new("patched at", parse.GetValue(position) is { } p ? $"position {p}" : "every position"));
        header.Save(outDir);
        var summaries = EvaluationFiles.WriteAll(outDir, records, methodList.Select(m => m.Name).ToList(), header);
        PrintSummary(summaries, records, outDir);
        return Finish(interrupted, records.Count);
    }

    internal static int Finish(bool interrupted, int prompts)
    {
        if (!interrupted) return 0;
        Console.Error.WriteLine($"interrupted after {prompts} prompts: continue with the same command and --resume");
        return CliRunner.Interrupted;
    }

    /// <summary>
    /// Evaluates this shard's prompts not yet in <paramref name="records"/>, writing every finished one to
    /// the raw file, with a progress bar; true when interrupted. Throws when nothing was evaluated.
    /// </summary>
    internal static bool EvaluatePrompts<T>(List<int> mine, List<T> records, Func<T, int> index, string rawPath, Func<T, string> toLine,
        CancellationToken cancel, Func<int, (T Record, string Status)> evaluate)
    {
        var done = records.Select(index).ToHashSet();
        bool interrupted = ProgressDisplay.Run("evaluating", mine.Count, "prompts", report =>
        {
            int count = done.Count(mine.Contains);
            foreach (int i in mine.Where(i => !done.Contains(i)))
            {
                if (cancel.IsCancellationRequested) return true;
                var (record, status) = evaluate(i);
                records.Add(record);
                // Every finished prompt is on disk, so an interruption loses at most the prompt in progress.
                EvaluationFiles.WriteAtomically(rawPath, string.Concat(records.OrderBy(index).Select(r => toLine(r) + "\n")));
                report(++count, status);
            }
            return false;
        });
        if (records.Count == 0) throw new RelpSaeException("no prompt was evaluated");
        return interrupted;
    }

    internal static void CheckBatch(int batch)
    {
        if (batch <= 0) throw new RelpSaeException($"--batch must be positive, got {batch}");
    }

    internal static ResolvedPrompt Resolve(PromptResolver resolver, PromptCase c, int index)
    {
        try { return resolver.Resolve(c); }
        catch (RelpSaeException e) { throw new RelpSaeException($"prompt {index} ({StrictText.Excerpt(c.Prompt)}): {OptionNames.Message(e)}"); }
    }

    internal static IReadOnlyList<PromptCase> Cases(string? file, string? task, int n, int seed, ModelFolder bundle)
    {
        if (file is not null && task is not null) throw new RelpSaeException("give either --prompts or --task, not both");
        if (file is not null) return PromptFile.Read(file);
        return (task ?? "contrastive").ToLowerInvariant() switch
        {
            "ioi" => IoiPrompts.Generate(n, seed, text => bundle.RequireTokenizer("a --prompts file with \"prompt_ids\"").Encode(text).Length == 1),
            "contrastive" => ContrastivePrompts.Generate(n),
            _ => throw new RelpSaeException($"--task must be ioi or contrastive, got \"{task}\""),
        };
    }

    internal static (int Index, int Count) ParseShard(string? text)
    {
        if (text is null) return (0, 1);
        var parts = text.Split('/');
        if (parts.Length == 2 && int.TryParse(parts[0], out int i) && int.TryParse(parts[1], out int n) && n > 0 && i >= 0 && i < n) return (i, n);
        throw new RelpSaeException($"--shard must be i/n with 0 ≤ i < n, got \"{text}\"");
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
