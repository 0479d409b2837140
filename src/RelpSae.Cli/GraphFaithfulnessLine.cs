using System.Globalization;
using RelpSae.Graphs;

namespace RelpSae.Cli;

/// <summary>Faithfulness curves as the terminal shows them: a heading naming the node thresholds, then a line per method of each threshold's faithfulness and, in brackets, the feature nodes kept.</summary>
internal static class GraphFaithfulnessLine
{
    public static void Write(TextWriter output, string what, IReadOnlyList<GraphFaithfulness> curves)
    {
        var thresholds = string.Join(" ", (curves.FirstOrDefault()?.Points ?? []).Select(p => p.Threshold.ToString("0.##", CultureInfo.InvariantCulture)));
        output.WriteLine($"{what} of the pruned graphs at node thresholds {thresholds} (feature nodes kept; the rest ablated to zero):");
        foreach (var c in curves)
            output.WriteLine($"  {c.Method,-12}" + string.Concat(c.Points.Select(p => string.Create(CultureInfo.InvariantCulture,
                $" {(double.IsFinite(p.Faithfulness) ? p.Faithfulness.ToString("F3", CultureInfo.InvariantCulture) : "–")} ({p.FeatureNodes:0.#})"))));
    }
}
