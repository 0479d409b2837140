using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using RelpSae.Benchmarks;
using RelpSae.Reports;
using Spectre.Console;

namespace RelpSae.Cli.Commands;

/// <summary>
/// <c>relp-sae bench</c>: the FMA peak and GEMM efficiency, the libtorch anchor's model workloads (side
/// by side with the anchor's own figures when its output is given, --anchor), attribution costs,
/// throughputs and peak memory (<see cref="BenchSuite"/>).
/// </summary>
public static class BenchCommand
{
    public static Command Create()
    {
        var json = new Option<string?>("--json") { Description = "Also write the rows as JSON to this file." };
        var anchor = new Option<string?>("--anchor") { Description = "Output of ../shared/anchors/libtorch-cpu/run.sh saved to a file: shown beside our figures as ratios." };
        var reps = new Option<int>("--reps") { Description = "Timed repetitions per workload (the median is reported).", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed warm-up runs per workload.", DefaultValueFactory = _ => 1 };
        var threads = new Option<string>("--threads") { Description = "Thread counts to measure, comma-separated.", DefaultValueFactory = _ => "1,2" };
        var command = new Command("bench", "Time the GEMM, a GPT-2-small-shaped model (the libtorch anchor's workloads) and attribution.") { json, anchor, reps, warmup, threads };
        command.SetAction(parse =>
        {
            int r = Positive(parse.GetValue(reps), "--reps"), w = Math.Max(0, parse.GetValue(warmup));
            var threadCounts = ParseThreads(parse.GetValue(threads)!);
            var anchorRows = parse.GetValue(anchor) is { } a ? AnchorResults.Parse(a) : [];
            var report = BenchSuite.Run(threadCounts, w, r, row =>
            {
                if (row.Workload == "fma_peak") Console.WriteLine($"threads {row.Threads}: FMA peak {row.PeakGflops:F0} GFLOP/s");
                else if (row.Workload.StartsWith("gemm")) Console.WriteLine($"  {row.Workload,-44} {row.Gflops,7:F1} GFLOP/s  {row.FractionOfPeak,6:P0} of peak");
            });
            // Wide enough that the tables keep one line per row when the output is piped to a file.
            AnsiConsole.Profile.Width = Math.Max(AnsiConsole.Profile.Width, 150);
            PrintModel(report, anchorRows);
            PrintAttribution(report);
            FamilyBenchTable.Print(report);
            Console.WriteLine($"Peak resident memory, GPT-2-small weights + forward to full logits at 1×1024: {report.ForwardPeakRssBytes / 1e6:F0} MB");
            if (parse.GetValue(json) is { } path)
                File.WriteAllText(path, JsonSerializer.Serialize(new
                {
                    fma_peak_gflops = report.FmaPeakGflops.ToDictionary(p => p.Key.ToString(), p => p.Value),
                    forward_1x1024_peak_rss_bytes = report.ForwardPeakRssBytes,
                    rows = report.Rows.Where(x => x.Workload != "fma_peak").Select(x => new
                    {
                        workload = x.Workload, batch = x.Batch, tokens = x.Tokens, threads = x.Threads, ms = x.Ms,
                        gflop = x.Gflop > 0 ? x.Gflop : (double?)null,
                        fraction_of_peak = double.IsNaN(x.FractionOfPeak) ? (double?)null : x.FractionOfPeak,
                    }),
                }, new JsonSerializerOptions { WriteIndented = true, Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
            return 0;
        });
        return command;
    }

    private static void PrintModel(BenchReport report, IReadOnlyList<BenchRow> anchor)
    {
        var table = new Table().AddColumns("workload", "B×T", "threads", "ms (median)", "of FMA peak", "libtorch ms", "ratio");
        foreach (var row in report.Rows.Where(x => x.Workload is "forward" or "backward_exact" or "backward_relp"))
        {
            // Our backward workloads are compared with the anchor's exact forward+backward (its slim-head column).
            var match = anchor.FirstOrDefault(a => a.Batch == row.Batch && a.Tokens == row.Tokens && a.Threads == row.Threads &&
                a.Workload == (row.Workload == "forward" ? "forward" : "backward_exact"));
            table.AddRow(row.Workload, $"{row.Batch}×{row.Tokens}", row.Threads.ToString(), $"{row.Ms:F1}", Percent(row),
                match is null ? "" : $"{match.Ms:F1}", match is null ? "" : $"{row.Ms / match.Ms:F2}");
        }
        AnsiConsole.Write(table);
    }

    private static void PrintAttribution(BenchReport report)
    {
        var costs = new Table().AddColumns("attribution (GPT-2-small shape, 64 tokens, SAE 768→3072 at blocks.6)", "threads", "ms (median)", "of FMA peak", "note");
        foreach (var row in report.Rows.Where(IsAttribution))
        {
            var gradient = report.Rows.FirstOrDefault(x => x.Workload == "attribution_gradient" && x.Threads == row.Threads);
            var firstTruth = report.Rows.FirstOrDefault(x => x.Workload == "ground_truth" && x.Threads == row.Threads);
            costs.AddRow(row.Workload, row.Threads.ToString(), $"{row.Ms:F1}", Percent(row), row.Workload switch
            {
                "attribution_relp" or "attribution_relp-ah" when gradient is not null => $"{row.Ms / gradient.Ms:F2}× the gradient",
                var ig when ig.StartsWith("attribution_ig") && gradient is not null && int.TryParse(ig["attribution_ig".Length..], out int steps) =>
                    $"{row.Ms / gradient.Ms:F1}× the gradient = {row.Ms / (steps * gradient.Ms):F2}× {steps} gradients",
                "ground_truth" when firstTruth is not null && firstTruth != row =>
                    $"{row.Batch} features: {row.Ms / row.Batch:F1} ms each; {row.Ms / firstTruth.Ms:F1}× the time of {firstTruth.Batch} for {(double)row.Batch / firstTruth.Batch:F1}× the features",
                "ground_truth" => $"{row.Batch} features: {row.Ms / row.Batch:F1} ms each",
                "activation_cache_layer6" => $"{row.Batch * row.Tokens / (row.Ms / 1000):N0} tokens/s",
                "sae_train_step" => $"{row.Batch / (row.Ms / 1000):N0} tokens/s",
                _ => "",
            });
        }
        AnsiConsole.Write(costs);
    }

    private static string Percent(BenchRow row) => double.IsNaN(row.FractionOfPeak) ? "" : $"{row.FractionOfPeak:P0}";

    private static bool IsAttribution(BenchRow row) =>
        row.Workload.StartsWith("attribution_") || row.Workload is "ground_truth" or "activation_cache_layer6" or "sae_train_step";

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
