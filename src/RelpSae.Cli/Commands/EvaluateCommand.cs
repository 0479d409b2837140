using System.CommandLine;
using System.CommandLine.Parsing;
using RelpSae.Attribution;
using RelpSae.Model;
using RelpSae.Prompts;
using RelpSae.Reports;
using RelpSae.Text;

namespace RelpSae.Cli.Commands;

/// <summary>
/// <c>relp-sae evaluate</c>: each method against ground-truth patching over a prompt set, by one of four
/// protocols, each a subcommand with its own options: <c>features</c> (single SAE features),
/// <c>components</c> (whole components, the RelP paper's protocol), <c>circuit</c> (sparse feature
/// circuits) and <c>graphs</c> (attribution graphs). <c>evaluate</c> itself takes every option and picks the protocol
/// with <c>--level</c>, <c>--circuit</c> or <c>--graphs</c>. Written as results.json, one CSV per method and report.html;
/// resumable and shardable.
/// </summary>
public static class EvaluateCommand
{
    public static Command Create()
    {
        var o = new EvaluateOptions();
        var level = new Option<string>("--level") { Description = "features: patch single SAE features; components: patch each resid_pre, attn_out, mlp_out and head output at each position with its corrupted-run value.", DefaultValueFactory = _ => "features" };
        var circuit = new Option<bool>("--circuit") { Description = "Sparse feature circuits: splice the SAEs of --saes at once; keep each method's top-n nodes (n = 1, 2, 4, … all) and ablate the rest; faithfulness and completeness curves." };
        var graphs = new Option<bool>("--graphs") { Description = "Attribution graphs over transcoders (--saes, default the embedded transcoders): each prompt's graph per method of --methods (graph methods, default " + GraphCliOptions.DefaultMethods + "), its kept edges measured against patching, and each graph's faithfulness curve." };
        var command = new Command("evaluate", "Measure each method's faithfulness against ground truth over a prompt set: patching single SAE features (features), whole components (components), ablating all but a circuit's top nodes (circuit, --circuit), or attribution graphs' edges and pruned graphs (graphs, --graphs).")
        {
            o.Prompts, o.Task, o.N, o.Seed, o.Model, o.Sae, o.Methods, o.IgSteps, o.Metric, o.Baseline, o.Position, o.Batch, level, o.Components,
            o.Shard, o.Output, o.Resume, o.Center, o.Bos, circuit, o.Saes, o.PerPosition, graphs, o.NodeThreshold, o.EdgeThreshold, o.MaxFeatureNodes, o.Json,
        };
        command.SetAction((parse, cancel) =>
        {
            var protocol = Picked(parse, level, circuit, graphs);
            // With --graphs, --saes names the transcoders and --methods graph methods.
            Option[] Accepted(EvaluateProtocol p) => p == EvaluateProtocol.Graphs ? [.. o.Read(p), o.Saes, o.Methods] : o.Read(p);
            foreach (var option in Enum.GetValues<EvaluateProtocol>().SelectMany(Accepted).Distinct().Except(Accepted(protocol)))
                if (parse.GetResult(option) is { Implicit: false }) throw new RelpSaeException(NotRead(protocol, option.Name));
            return Task.FromResult(Run(protocol, parse, o, cancel));
        });
        foreach (var protocol in Enum.GetValues<EvaluateProtocol>()) command.Subcommands.Add(Subcommand(protocol));
        return command;
    }

    /// <summary><c>evaluate features|components|circuit|graphs</c>: the protocol's options only.</summary>
    private static Command Subcommand(EvaluateProtocol protocol)
    {
        var o = new EvaluateOptions();
        var command = new Command(protocol.ToString().ToLowerInvariant(), protocol switch
        {
            EvaluateProtocol.Features => "Patch single SAE features: each method's feature scores against their true effects.",
            EvaluateProtocol.Components => "Patch whole components (resid_pre, attn_out, mlp_out, heads) with their corrupted-run values: the RelP paper's protocol.",
            EvaluateProtocol.Circuit => "Sparse feature circuits: keep each method's top-n nodes of several SAEs and ablate the rest; faithfulness and completeness curves.",
            _ => "Attribution graphs over transcoders: each prompt's graph per method, its kept edges measured against patching, and each graph's faithfulness curve over node thresholds.",
        });
        foreach (var option in o.Read(protocol)) command.Options.Add(option);
        command.SetAction((parse, cancel) =>
        {
            // evaluate's own options before the protocol's name would be silently dropped: refuse them.
            if (parse.CommandResult.Parent is CommandResult { Children: var given } && given.OfType<OptionResult>().Any(x => !x.Implicit))
                throw new RelpSaeException($"give the options after the protocol: relp-sae evaluate {command.Name} [options]");
            return Task.FromResult(Run(protocol, parse, o, cancel));
        });
        return command;
    }

    private static int Run(EvaluateProtocol protocol, ParseResult parse, EvaluateOptions o, CancellationToken cancel) => protocol switch
    {
        EvaluateProtocol.Features => EvaluateFeatures.Run(EvaluateFeatures.Bind(parse, o), cancel),
        EvaluateProtocol.Components => EvaluateComponents.Run(EvaluateComponents.Bind(parse, o), cancel),
        EvaluateProtocol.Circuit => EvaluateCircuit.Run(EvaluateCircuit.Bind(parse, o), cancel),
        _ => EvaluateGraphs.Run(EvaluateGraphs.Bind(parse, o), cancel),
    };

    /// <summary>The protocol --level, --circuit and --graphs pick.</summary>
    private static EvaluateProtocol Picked(ParseResult parse, Option<string> level, Option<bool> circuit, Option<bool> graphs)
    {
        var chosen = parse.GetValue(level)!.ToLowerInvariant();
        if (parse.GetValue(graphs))
        {
            if (parse.GetValue(circuit)) throw new RelpSaeException("give --circuit or --graphs, not both: they are two protocols");
            return chosen == "features" ? EvaluateProtocol.Graphs : throw new RelpSaeException(NotRead(EvaluateProtocol.Graphs, "--level"));
        }
        if (parse.GetValue(circuit))
            return chosen == "features" ? EvaluateProtocol.Circuit : throw new RelpSaeException(NotRead(EvaluateProtocol.Circuit, "--level"));
        return chosen switch
        {
            "features" => EvaluateProtocol.Features,
            "components" => EvaluateProtocol.Components,
            _ => throw new RelpSaeException($"--level must be features or components, got \"{parse.GetValue(level)}\""),
        };
    }

    /// <summary>Why <paramref name="protocol"/> refuses another protocol's option.</summary>
    private static string NotRead(EvaluateProtocol protocol, string option) => (protocol, option) switch
    {
        (EvaluateProtocol.Circuit, "--level" or "--components") => "--circuit is its own protocol: leave out --level and --components",
        (EvaluateProtocol.Circuit, "--sae") => "--circuit splices the SAEs of --saes (a comma list or a folder of SAE folders), not --sae",
        // Each curve point is already one batched pass over every kept set, so there is nothing for --batch to size.
        (EvaluateProtocol.Circuit, "--batch") => "--batch sizes feature and component patching; --circuit batches each prompt's curve by itself",
        (EvaluateProtocol.Circuit, "--patch-position") => "--patch-position is for --level features: a circuit ablates nodes at every position (see --per-position)",
        (EvaluateProtocol.Components, "--patch-position") => "--patch-position is for --level features: components are patched at every position, one at a time",
        (EvaluateProtocol.Components, "--sae") => "--level components patches whole components: no SAE is involved, so leave out --sae",
        (EvaluateProtocol.Graphs, "--level" or "--components") => "--graphs is its own protocol: leave out --level and --components",
        (EvaluateProtocol.Graphs, "--sae") => "--graphs reads the transcoders of --saes (a folder of them or a comma list), not --sae",
        (EvaluateProtocol.Graphs, _) => $"{option} is not read by --graphs: a graph explains its top logits, ablating to zero, and prunes by --node-threshold and --edge-threshold",
        (_, "--node-threshold" or "--edge-threshold" or "--max-feature-nodes") => $"{option} needs --graphs",
        (_, "--saes" or "--per-position") => "--saes and --per-position need --circuit (or attribute; --saes also --graphs)",
        _ => $"{option} needs --level components",
    };

    /// <summary>The run's summary: the protocol's table, and with --json results.json's content as well.</summary>
    internal static void Report(EvaluationRun run, Action printSummary)
    {
        printSummary();
        if (run.Json is { } path) JsonOutput.Write(path, File.ReadAllText(Path.Combine(run.Output, "results.json")).TrimEnd('\n'));
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
    internal static bool EvaluatePrompts<T>(List<int> mine, List<T> records, RawRecords<T> raw, string dir,
        CancellationToken cancel, Func<int, (T Record, string Status)> evaluate)
    {
        var done = records.Select(raw.Index).ToHashSet();
        bool interrupted = ProgressDisplay.Run("evaluating", mine.Count, "prompts", report =>
        {
            int count = done.Count(mine.Contains);
            foreach (int i in mine.Where(i => !done.Contains(i)))
            {
                if (cancel.IsCancellationRequested) return true;
                var (record, status) = evaluate(i);
                records.Add(record);
                // Every finished prompt is on disk, so an interruption loses at most the prompt in progress.
                raw.Append(dir, record);
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
}
