using System.Globalization;
using RelpSae.Graphs;

namespace RelpSae.Cli;

/// <summary>A faithfulness curve on one line: each node threshold with the feature nodes its pruned graph keeps and the faithfulness, e.g. "0.8: 12 → 0.912".</summary>
internal static class GraphFaithfulnessLine
{
    public static string Of(GraphFaithfulness curve) => string.Join("  ", curve.Points.Select(p =>
        string.Create(CultureInfo.InvariantCulture, $"{p.Threshold:0.##}: {p.FeatureNodes:0.#} → {(double.IsFinite(p.Faithfulness) ? p.Faithfulness.ToString("F3", CultureInfo.InvariantCulture) : "–")}")));
}
