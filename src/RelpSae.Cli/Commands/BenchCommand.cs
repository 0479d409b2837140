using System.CommandLine;
using System.Text.Json;
using RelpSae.Benchmarks;
using RelpSae.Model;
using RelpSae.Numerics;
using RelpSae.Reports;
using Spectre.Console;

namespace RelpSae.Cli.Commands;

/// <summary>
/// <c>relp-sae bench</c>: GEMM GFLOP/s against the FMA peak, and the libtorch anchor's model workloads,
/// side by side with the anchor's own figures when its output is given (--anchor).
/// </summary>
public static class BenchCommand
{
    private static readonly (string Name, int M, int N, int K, bool TransB)[] GemmShapes =
    [
        ("1024³", 1024, 1024, 1024, false),
        ("qkv 128×2304×768", 128, 2304, 768, false),
        ("mlp in 128×3072×768", 128, 3072, 768, false),
        ("mlp out 128×768×3072", 128, 768, 3072, false),
        ("logits 128×50257×768 (A·Bᵀ)", 128, 50257, 768, true),
    ];

    public static Command Create()
    {
        var json = new Option<string?>("--json") { Description = "Also write the rows as JSON to this file." };
        var anchor = new Option<string?>("--anchor") { Description = "Output of ../shared/anchors/libtorch-cpu/run.sh saved to a file: shown beside our figures as ratios." };
        var reps = new Option<int>("--reps") { Description = "Timed repetitions per workload (the median is reported).", DefaultValueFactory = _ => 5 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed warm-up runs per workload.", DefaultValueFactory = _ => 1 };
        var threads = new Option<string>("--threads") { Description = "Thread counts to measure, comma-separated.", DefaultValueFactory = _ => "1,2" };
        var command = new Command("bench", "Time the GEMM and a GPT-2-small-shaped model (the libtorch anchor's workloads).") { json, anchor, reps, warmup, threads };
        command.SetAction(parse =>
        {
            int r = Positive(parse.GetValue(reps), "--reps"), w = Math.Max(0, parse.GetValue(warmup));
            var threadCounts = ParseThreads(parse.GetValue(threads)!);
            var anchorRows = parse.GetValue(anchor) is { } a ? AnchorResults.Parse(a) : [];
            var rows = new List<BenchRow>();
            var model = new Gpt2(Gpt2Weights.Random(ModelBenchmark.Gpt2Small, seed: 0));
            int saved = Threads.Count;
            try
            {
                foreach (int t in threadCounts)
                {
                    Threads.Count = t;
                    double peak = FmaPeak.MeasureGflops(t, TimeSpan.FromSeconds(1));
                    Console.WriteLine($"threads {t}: FMA peak {peak:F0} GFLOP/s");
                    foreach (var s in GemmShapes)
                    {
                        double gflops = GemmBenchmark.MeasureGflops(s.M, s.N, s.K, t, transB: s.TransB, reps: Math.Max(r, 5));
                        Console.WriteLine($"  gemm {s.Name,-30} {gflops,7:F1} GFLOP/s  {gflops / peak,6:P0} of peak");
                        rows.Add(new BenchRow($"gemm {s.Name}", s.M, s.N, t, 2.0 * s.M * s.N * s.K / gflops / 1e6));
                    }
                    rows.AddRange(ModelBenchmark.Run(model, t, w, r));
                    rows.AddRange(AttributionBenchmark.Run(model, t, w, r));
                }
            }
            finally { Threads.Count = saved; }
            PrintTable(rows, anchorRows);
            if (parse.GetValue(json) is { } path)
                File.WriteAllText(path, JsonSerializer.Serialize(rows.Select(x => new { workload = x.Workload, batch = x.Batch, tokens = x.Tokens, threads = x.Threads, ms = x.Ms }),
                    new JsonSerializerOptions { WriteIndented = true }));
            return 0;
        });
        return command;
    }

    private static void PrintTable(List<BenchRow> rows, IReadOnlyList<BenchRow> anchor)
    {
        var table = new Table().AddColumns("workload", "B×T", "threads", "ms (median)", "libtorch ms", "ratio");
        foreach (var row in rows.Where(x => !x.Workload.StartsWith("gemm") && !IsAttribution(x)))
        {
            // Our backward workloads are compared with the anchor's exact forward+backward (its slim-head column).
            var match = anchor.FirstOrDefault(a => a.Batch == row.Batch && a.Tokens == row.Tokens && a.Threads == row.Threads &&
                a.Workload == (row.Workload == "forward" ? "forward" : "backward_exact"));
            table.AddRow(row.Workload, $"{row.Batch}×{row.Tokens}", row.Threads.ToString(), $"{row.Ms:F1}",
                match is null ? "" : $"{match.Ms:F1}", match is null ? "" : $"{row.Ms / match.Ms:F2}");
        }
        AnsiConsole.Write(table);

        var costs = new Table().AddColumns("attribution workload (GPT-2-small shape, 64-token prompt, SAE 768→3072 at blocks.6)", "threads", "ms (median)", "note");
        foreach (var row in rows.Where(IsAttribution))
            costs.AddRow(row.Workload, row.Threads.ToString(), $"{row.Ms:F1}", row.Workload switch
            {
                "ground_truth" => $"{row.Batch} features: {row.Ms / row.Batch:F1} ms per feature",
                "activation_cache_layer6" => $"{row.Batch * row.Tokens / (row.Ms / 1000):N0} tokens/s",
                "sae_train_step" => $"{row.Batch / (row.Ms / 1000):N0} tokens/s",
                _ => "",
            });
        AnsiConsole.Write(costs);
    }

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
