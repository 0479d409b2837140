using System.Globalization;

namespace RelpSae.Benchmarks;

/// <summary>
/// Reads the libtorch anchor's output (../shared/anchors/libtorch-cpu/run.sh, saved to a file): its
/// markdown tables of forward, forward+backward and 1024³ matmul timings, as bench rows. The anchor's
/// "slim head" forward+backward (only the needed logit computed) is the same work as our backward
/// workloads, so it is the one compared with them.
/// </summary>
public static class AnchorResults
{
    public static IReadOnlyList<BenchRow> Parse(string path)
    {
        if (!File.Exists(path)) throw new RelpSaeException($"anchor results not found: {path}");
        return Parse(File.ReadLines(path), path);
    }

    /// <summary>The rows of run.sh's output given as lines; <paramref name="source"/> names it in errors.</summary>
    public static IReadOnlyList<BenchRow> Parse(IEnumerable<string> lines, string source)
    {
        var rows = new List<BenchRow>();
        foreach (var line in lines)
        {
            var cells = line.Split('|', StringSplitOptions.TrimEntries);
            if (cells.Length < 5 || !int.TryParse(cells[1], out int threads)) continue;
            var shape = cells[2].Split('x');
            if (shape.Length == 2 && int.TryParse(shape[0], out int batch) && int.TryParse(shape[1], out int tokens) && cells.Length >= 7)
            {
                rows.Add(new BenchRow("forward", batch, tokens, threads, Median(cells[3], source)));
                rows.Add(new BenchRow("backward_exact", batch, tokens, threads, Median(cells[5], source)));
            }
            else if (double.TryParse(cells[2], NumberStyles.Float, CultureInfo.InvariantCulture, out double ms))
                rows.Add(new BenchRow("gemm_1024", 1024, 1024, threads, ms));
        }
        if (rows.Count == 0) throw new RelpSaeException($"{source} holds no anchor timing tables: save the output of run.sh to it");
        return rows;
    }

    // Cells read "  123.4 (120.1-130.2)": the median, then the range.
    private static double Median(string cell, string source)
    {
        var first = cell.Split(' ', StringSplitOptions.RemoveEmptyEntries)[0];
        return double.TryParse(first, NumberStyles.Float, CultureInfo.InvariantCulture, out double v)
            ? v : throw new RelpSaeException($"{source}: cannot read a time from \"{cell}\"");
    }
}
