using System.Globalization;
using System.Text;
using RelpSae.Attribution;
using RelpSae.Model;

namespace RelpSae.Reports;

/// <summary>
/// A Graphviz DOT view of a circuit's top nodes: one row per hook, from the first hook at the bottom to
/// the last at the top, each node labelled with its feature (or error), position and score, filled blue
/// for a positive score and red for a negative one, darker for larger |score|.
/// </summary>
public static class CircuitGraph
{
    public static string Dot(string title, IReadOnlyList<HookPoint> hooks, IReadOnlyList<(CircuitNode Node, double Score)> top)
    {
        var sb = new StringBuilder($"digraph circuit {{\n  label=\"{Escape(title)}\"; labelloc=t; rankdir=BT; node [shape=box, style=\"rounded,filled\", fontname=\"sans-serif\"];\n");
        double max = top.Count == 0 ? 1 : top.Max(t => Math.Abs(t.Score));
        for (int h = 0; h < hooks.Count; h++)
        {
            sb.Append(CultureInfo.InvariantCulture, $"  subgraph hook{h} {{ rank=same; \"{hooks[h]}\" [shape=plaintext, style=\"\"];\n");
            foreach (var (node, score) in top.Where(t => t.Node.Hook == hooks[h]))
            {
                double shade = max > 0 ? Math.Abs(score) / max : 0;
                int light = (int)Math.Round(235 - 135 * shade);
                var fill = score >= 0 ? $"#{light:x2}{light:x2}ff" : $"#ff{light:x2}{light:x2}";
                var name = node.IsError ? "error" : $"#{node.Feature}";
                var at = node.Position >= 0 ? $" @{node.Position}" : "";
                sb.Append(CultureInfo.InvariantCulture, $"    \"{node}\" [label=\"{name}{at}\\n{score:+0.000;-0.000}\", fillcolor=\"{fill}\"];\n");
            }
            sb.Append("  }\n");
            // Invisible edges stack the hooks in the order the forward pass reaches them.
            if (h > 0) sb.Append($"  \"{hooks[h - 1]}\" -> \"{hooks[h]}\" [style=invis];\n");
        }
        return sb.Append("}\n").ToString();
    }

    private static string Escape(string s) => s.Replace("\\", "\\\\").Replace("\"", "\\\"");
}
