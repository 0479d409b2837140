using RelpSae.Benchmarks;
using Spectre.Console;

namespace RelpSae.Cli.Commands;

/// <summary>bench's table of the Llama-shaped and Pythia-shaped workloads (<see cref="FamilyBenchmark"/>).</summary>
internal static class FamilyBenchTable
{
    public static void Print(BenchReport report)
    {
        var table = new Table().AddColumns("other families (random weights: SmolLM-135M, Pythia-160m shapes)", "B×T", "threads", "ms (median)", "GFLOP", "of FMA peak");
        foreach (var row in report.Rows.Where(x => x.Workload.StartsWith("llama ") || x.Workload.StartsWith("pythia ")))
            table.AddRow(row.Workload, $"{row.Batch}×{row.Tokens}", row.Threads.ToString(), $"{row.Ms:F1}", $"{row.Gflop:F1}",
                double.IsNaN(row.FractionOfPeak) ? "" : $"{row.FractionOfPeak:P0}");
        AnsiConsole.Write(table);
    }
}
