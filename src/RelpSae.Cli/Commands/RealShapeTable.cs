using RelpSae.Benchmarks;
using Spectre.Console;

namespace RelpSae.Cli.Commands;

/// <summary>bench's table of a real model's passes against the two floors of the same sitting (<see cref="RealShapeBenchmark"/>).</summary>
internal static class RealShapeTable
{
    public static void Print(BenchReport report, string architecture)
    {
        Console.WriteLine($"{architecture} at its own shape; floors: its FLOPs at the FMA peak, its weights' bytes at the read bandwidth");
        var table = new Table().AddColumns("pass, weights", "B×T", "threads", "ms", "GFLOP", "of peak", "FMA floor ms", "MB read", "stream floor ms",
            "÷ stream floor", "÷ larger floor");
        foreach (var row in report.Rows.Where(x => x.Workload.StartsWith("real ")))
            table.AddRow(row.Workload["real ".Length..], $"{row.Batch}×{row.Tokens}", row.Threads.ToString(), $"{row.Ms:F1}", $"{row.Gflop:F1}",
                $"{row.FractionOfPeak:P0}", $"{row.MsAtPeak:F1}", $"{row.StreamBytes / 1e6:F0}", $"{row.StreamFloorMs:F1}",
                $"{row.Ms / row.StreamFloorMs:F2}", $"{row.Ms / row.FloorMs:F2}");
        AnsiConsole.Write(table);
    }
}
