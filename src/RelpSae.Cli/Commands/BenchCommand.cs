using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using RelpSae.Benchmarks;
using RelpSae.Model;
using Spectre.Console;

namespace RelpSae.Cli.Commands;

/// <summary>
/// <c>relp-sae bench</c>: the FMA peak and GEMM efficiency, the libtorch anchor's model workloads (side
/// by side with the anchor's own figures when its output is given, --anchor, or in rounds alternating
/// with the anchor kit itself, --interleave-anchor), attribution costs, SAE throughputs and peak memory, and a
/// real model's passes against the FMA and memory-stream floors (--model) (<see cref="BenchSuite"/>,
/// <see cref="InterleavedAnchor"/>); --only picks groups.
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var json = JsonOutput.Option("the rows");
        var anchor = new Option<string?>("--anchor") { Description = "Output of ../shared/anchors/libtorch-cpu/run.sh saved to a file: shown beside our figures as ratios." };
        var interleave = new Option<string?>("--interleave-anchor") { Description = "The anchor kit's folder (../shared/anchors/libtorch-cpu, set up, run as root): alternate rounds of it and of our model workloads, and report each row's median per-round ratio." };
        var rounds = new Option<int>("--rounds") { Description = "Rounds of --interleave-anchor.", DefaultValueFactory = _ => 3 };
        var only = new Option<string?>("--only") { Description = "Time only these groups, comma-separated: model, gemm, attribution, sae, families, real (needs --model)." };
        var model = new Option<string?>("--model") { Description = "A model folder (Llama, Qwen, Mistral or Gemma) whose forward and RelP pass the real group times at 1×32 and 1×128 tokens, held as --dtype says." };
        var reps = new Option<int>("--reps") { Description = "Timed repetitions per workload (the median is reported).", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed warm-up runs per workload.", DefaultValueFactory = _ => 1 };
        var threads = new Option<string>("--threads") { Description = "Thread counts to measure, comma-separated.", DefaultValueFactory = _ => "1,2" };
        var command = new Command("bench", "Time the GEMM, a GPT-2-small-shaped model (the libtorch anchor's workloads), attribution and SAE training.")
            { json, anchor, interleave, rounds, only, model, reps, warmup, threads };
        command.SetAction(parse =>
        {
            int r = Positive(parse.GetValue(reps), "--reps"), w = Math.Max(0, parse.GetValue(warmup));
            var threadCounts = ParseThreads(parse.GetValue(threads)!);
            var modelDir = parse.GetValue(model);
            var groups = ParseGroups(parse.GetValue(only), modelDir is not null);
            if (groups.Contains(BenchGroup.Real) && modelDir is null) throw new RelpSaeException("--only real needs --model (a model folder)");
            if (!groups.Contains(BenchGroup.Real) && modelDir is not null) throw new RelpSaeException("--model is timed by the real group: add real to --only");
            var kit = parse.GetValue(interleave);
            if (kit is not null && parse.GetValue(anchor) is not null)
                throw new RelpSaeException("give --anchor (a saved anchor output) or --interleave-anchor (the kit's folder), not both");
            var anchorRows = parse.GetValue(anchor) is { } a ? AnchorResults.Parse(a) : [];
            // Wide enough that the tables keep one line per row when the output is piped to a file.
            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 150);

            object? interleaved = null;
            if (kit is not null && groups.Remove(BenchGroup.Model))
            {
                try { AnchorKit.RunScript(kit); }
                catch (RelpSaeException e) { throw new RelpSaeException($"--interleave-anchor: {e.Message}", e); }
                var (done, rows) = InterleavedAnchor.Run(kit, Positive(parse.GetValue(rounds), "--rounds"), threadCounts, w, r, round =>
                    Console.WriteLine($"round {round.Index} ({(round.AnchorFirst ? "anchor first" : "ours first")}): FMA peak " +
                        string.Join(", ", round.FmaPeakGflops.Select(p => $"{p.Value:F0} GFLOP/s on {p.Key} thread{(p.Key == 1 ? "" : "s")}"))));
                PrintInterleaved(rows);
                interleaved = InterleavedJson(done, rows);
            }
            BenchReport? report = null;
            if (groups.Count > 0)
            {
                var real = modelDir is null ? null : LanguageModels.Load(CliDefaults.ExistingFolder(modelDir, "--model"), holding: CliDefaults.Holding);
                if (real is not null) StreamedWeights.Of(real);   // a family the rows cannot time is refused before anything is timed
                report = BenchSuite.Run(threadCounts, w, r, groups, row =>
                {
                    if (row.Workload == "fma_peak") Console.WriteLine($"threads {row.Threads}: FMA peak {row.PeakGflops:F0} GFLOP/s, read bandwidth {row.ReadGBps:F1} GB/s");
                    else if (row.Workload.StartsWith("gemm")) Console.WriteLine($"  {row.Workload,-44} {row.Gflops,7:F1} GFLOP/s  {row.FractionOfPeak,6:P0} of peak");
                }, real);
                if (groups.Contains(BenchGroup.Model)) PrintModel(report, anchorRows);
                if (groups.Contains(BenchGroup.Attribution) || groups.Contains(BenchGroup.Sae)) PrintAttribution(report);
                if (groups.Contains(BenchGroup.Families)) FamilyBenchTable.Print(report);
                if (groups.Contains(BenchGroup.Real)) RealShapeTable.Print(report, real!.Facts.Architecture);
                if (report.ForwardPeakRssBytes > 0)
                    Console.WriteLine($"Peak resident memory, GPT-2-small weights + forward to full logits at 1×1024: {report.ForwardPeakRssBytes / 1e6:F0} MB");
            }
            if (JsonOutput.Target(parse, json) is { } path)
                JsonOutput.Write(path, JsonSerializer.Serialize(new
                {
                    fma_peak_gflops = report?.FmaPeakGflops.ToDictionary(p => p.Key.ToString(), p => p.Value),
                    read_gbps = report?.ReadGBps.ToDictionary(p => p.Key.ToString(), p => p.Value),
                    forward_1x1024_peak_rss_bytes = report is { ForwardPeakRssBytes: > 0 } ? report.ForwardPeakRssBytes : (long?)null,
                    rows = report?.Rows.Where(x => x.Workload != "fma_peak").Select(RowJson),
                    ig_in_gradients = report is null ? null : IgCostJson(report),
                    interleaved_anchor = interleaved,
                }, new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            return 0;
        });
        return command;
    }

    private static object RowJson(BenchRow x) => new
    {
        workload = x.Workload, batch = x.Batch, tokens = x.Tokens, threads = x.Threads, ms = x.Ms,
        gflop = x.Gflop > 0 ? x.Gflop : (double?)null,
        fraction_of_peak = double.IsNaN(x.FractionOfPeak) ? (double?)null : x.FractionOfPeak,
        ms_at_peak = double.IsNaN(x.MsAtPeak) ? (double?)null : x.MsAtPeak,
        stream_bytes = x.StreamBytes > 0 ? x.StreamBytes : (long?)null,
        stream_floor_ms = double.IsNaN(x.StreamFloorMs) ? (double?)null : x.StreamFloorMs,
    };

    /// <summary>IG's time in gradients of the same thread count, and its floor at the FMA peak.</summary>
    private static IEnumerable<object> IgCostJson(BenchReport report) =>
        from ig in report.Rows.Where(x => x.Workload.StartsWith("attribution_ig"))
        let gradient = report.Rows.FirstOrDefault(x => x.Workload == "attribution_gradient" && x.Threads == ig.Threads)
        where gradient is not null
        let cost = AttributionBenchmark.IgCost(ig, gradient)
        select new { workload = ig.Workload, threads = ig.Threads, gradients = cost.Gradients, floor_gradients = double.IsFinite(cost.Floor) ? cost.Floor : (double?)null };

    private static object InterleavedJson(IReadOnlyList<AnchorRound> rounds, IReadOnlyList<InterleavedRow> rows) => new
    {
        rounds = rounds.Select(round => new
        {
            round = round.Index, anchor_first = round.AnchorFirst,
            fma_peak_gflops = round.FmaPeakGflops.ToDictionary(p => p.Key.ToString(), p => p.Value),
            ours = round.Ours.Select(RowJson),
            anchor = round.Anchor.Select(x => new { workload = x.Workload, batch = x.Batch, tokens = x.Tokens, threads = x.Threads, ms = x.Ms }),
        }),
        rows = rows.Select(x => new
        {
            workload = x.Workload, batch = x.Batch, tokens = x.Tokens, threads = x.Threads,
            median_ratio = x.MedianRatio, min_ratio = x.MinRatio, max_ratio = x.MaxRatio, ratios = x.Ratios, ours_ms = x.OursMs, anchor_ms = x.AnchorMs,
            gflop = x.Gflop, median_ratio_at_peak = x.MedianPeakRatio, ratios_at_peak = x.PeakRatios,
        }),
    };

    private static void PrintInterleaved(IReadOnlyList<InterleavedRow> rows)
    {
        var table = new Table().AddColumns("workload", "B×T", "threads", "GFLOP", "ratio (median of rounds)", "spread", "per round", "ratio at peak",
            "relp-sae ms", "libtorch ms");
        foreach (var row in rows)
            table.AddRow(row.Workload, $"{row.Batch}×{row.Tokens}", row.Threads.ToString(), $"{row.Gflop:F1}", $"{row.MedianRatio:F2}",
                $"{row.MinRatio:F2}–{row.MaxRatio:F2}", string.Join(" ", row.Ratios.Select(x => x.ToString("F2"))), $"{row.MedianPeakRatio:F2}",
                string.Join(" ", row.OursMs.Select(x => x.ToString("F0"))), string.Join(" ", row.AnchorMs.Select(x => x.ToString("F0"))));
        AnsiConsole.Write(table);
    }

    private static void PrintModel(BenchReport report, IReadOnlyList<BenchRow> anchor)
    {
        var table = new Table().AddColumns("workload", "B×T", "threads", "GFLOP", "ms (median)", "of FMA peak", "libtorch ms", "ratio", "ratio at peak");
        foreach (var row in report.Rows.Where(x => x.Workload is "forward" or "backward_exact" or "backward_relp"))
        {
            // Our backward workloads are compared with the anchor's exact forward+backward (its slim-head column).
            var match = anchor.FirstOrDefault(a => a.Batch == row.Batch && a.Tokens == row.Tokens && a.Threads == row.Threads &&
                a.Workload == (row.Workload == "forward" ? "forward" : "backward_exact"));
            table.AddRow(row.Workload, $"{row.Batch}×{row.Tokens}", row.Threads.ToString(), $"{row.Gflop:F1}", $"{row.Ms:F1}", Percent(row),
                match is null ? "" : $"{match.Ms:F1}", match is null ? "" : $"{row.Ms / match.Ms:F2}", match is null ? "" : $"{row.MsAtPeak / match.Ms:F2}");
        }
        AnsiConsole.Write(table);
    }

    private static void PrintAttribution(BenchReport report)
    {
        var costs = new Table().AddColumns("attribution and SAE (GPT-2-small shape, 64 tokens, SAE 768→3072 at blocks.6)", "threads", "ms (median)", "of FMA peak", "note");
        foreach (var row in report.Rows.Where(IsAttribution))
        {
            var gradient = report.Rows.FirstOrDefault(x => x.Workload == "attribution_gradient" && x.Threads == row.Threads);
            var firstTruth = report.Rows.FirstOrDefault(x => x.Workload == "ground_truth" && x.Threads == row.Threads);
            costs.AddRow(row.Workload, row.Threads.ToString(), $"{row.Ms:F1}", Percent(row), row.Workload switch
            {
                "attribution_relp" or "attribution_relp-ah" when gradient is not null => $"{row.Ms / gradient.Ms:F2}× the gradient",
                var ig when ig.StartsWith("attribution_ig") && gradient is not null && int.TryParse(ig["attribution_ig".Length..], out int steps) =>
                    AttributionBenchmark.IgCost(row, gradient) is var (cost, floor) && double.IsFinite(floor)
                        ? $"{cost:F1} gradients = {cost / steps:F2}× {steps}; {floor:F1} at the FMA peak (floor)"
                        : $"{cost:F1} gradients = {cost / steps:F2}× {steps}",
                "ground_truth" when firstTruth is not null && firstTruth != row =>
                    $"{row.Batch} features: {row.Ms / row.Batch:F1} ms each; {row.Ms / firstTruth.Ms:F1}× the time of {firstTruth.Batch} for {(double)row.Batch / firstTruth.Batch:F1}× the features",
                "ground_truth" => $"{row.Batch} features: {row.Ms / row.Batch:F1} ms each",
                "ground_truth_at_56" => $"{row.Batch} features at one position: {row.Ms / row.Batch:F1} ms each",
                "component_truth" or "component_truth_last8" => $"{row.Batch} components ({row.Tokens} tokens): {row.Ms / row.Batch:F1} ms each",
                "activation_cache_layer6" => $"{row.Batch * row.Tokens / (row.Ms / 1000):N0} tokens/s",
                var step when step.StartsWith("sae_train_step") => $"{row.Batch / (row.Ms / 1000):N0} tokens/s",
                _ => "",
            });
        }
        AnsiConsole.Write(costs);
    }

    private static string Percent(BenchRow row) => double.IsNaN(row.FractionOfPeak) ? "" : $"{row.FractionOfPeak:P0}";

    private static bool IsAttribution(BenchRow row) =>
        row.Workload.StartsWith("attribution_") || row.Workload.StartsWith("sae_train_step") || row.Workload.StartsWith("ground_truth")
        || row.Workload.StartsWith("component_truth") || row.Workload is "activation_cache_layer6";

    /// <summary>The groups --only names; without it, every group (the real one only when a model is given).</summary>
    private static HashSet<BenchGroup> ParseGroups(string? text, bool withModel)
    {
        if (text is null) return [.. Enum.GetValues<BenchGroup>().Where(g => g != BenchGroup.Real || withModel)];
        var groups = new HashSet<BenchGroup>();
        foreach (var name in text.Split(',', StringSplitOptions.TrimEntries))
            groups.Add(Enum.TryParse<BenchGroup>(name, ignoreCase: true, out var g) && !int.TryParse(name, out _) ? g
                : throw new RelpSaeException($"--only must list groups among model, gemm, attribution, sae, families, real; got \"{name}\""));
        return groups;
    }

    private static int[] ParseThreads(string text)
    {
        try
        {
            var counts = text.Split(',').Select(s => int.Parse(s.Trim())).ToArray();
            if (counts.Any(c => c < 1)) throw new FormatException();
            return counts;
        }
        catch (FormatException) { throw new RelpSaeException($"--threads must be a comma list of positive integers, got \"{text}\""); }
    }

    private static int Positive(int value, string option) =>
        value > 0 ? value : throw new RelpSaeException($"{option} must be positive, got {value}");
}
