using System.Globalization;
using System.Text;

namespace RelpSae.Reports;

/// <summary>An inline SVG line chart of curves over a log-scaled n axis (ticks at the grid's powers of two), one line per method.</summary>
internal static class CircuitChart
{
    private static readonly string[] Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
    private const int Width = 560, Height = 380, Left = 60, Right = 20, Top = 50, Bottom = 50;

    public static string Render(string title, string yLabel, int[] grid, IReadOnlyList<(string Name, double[] Values)> lines, double? guide = null)
    {
        var finite = lines.SelectMany(l => l.Values).Where(double.IsFinite).Append(0.0).Append(1.0).ToList();
        double y0 = Math.Floor(finite.Min() * 5) / 5, y1 = Math.Ceiling(finite.Max() * 5) / 5;
        double x1 = Math.Max(1, Math.Log2(grid[^1]));
        double X(double n) => Left + Math.Log2(n) / x1 * (Width - Left - Right);
        double Y(double v) => Top + (y1 - v) / (y1 - y0) * (Height - Top - Bottom);
        var sb = new StringBuilder();
        // Drawn in a Width × Height box and scaled to the page's width, as wide as the tables beside it.
        sb.Append(Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"100%\" viewBox=\"0 0 {Width} {Height}\" role=\"img\" aria-label=\"{HtmlReport.Esc(title)}\" font-family=\"sans-serif\" font-size=\"11\">\n"));
        sb.Append(Inv($"<text x=\"{Width / 2}\" y=\"16\" text-anchor=\"middle\" font-size=\"13\">{HtmlReport.Esc(title)}</text>\n"));
        for (int i = 0; i < lines.Count; i++)   // the legend, in its own row above the plot
            sb.Append(Inv($"<rect x=\"{Left + i * 95}\" y=\"26\" width=\"12\" height=\"3\" fill=\"{Palette[i % Palette.Length]}\"/><text x=\"{Left + i * 95 + 16}\" y=\"31\">{HtmlReport.Esc(lines[i].Name)}</text>\n"));
        for (int k = 0; y0 + 0.2 * k <= y1 + 1e-9; k++)
        {
            double v = Math.Round(y0 + 0.2 * k, 1);
            sb.Append(Inv($"<line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{Y(v):0.#}\" y2=\"{Y(v):0.#}\" stroke=\"#e4e4e4\"/><text x=\"{Left - 6}\" y=\"{Y(v) + 4:0.#}\" text-anchor=\"end\">{v:0.0}</text>\n"));
        }
        if (guide is { } g) sb.Append(Inv($"<line x1=\"{Left}\" x2=\"{Width - Right}\" y1=\"{Y(g):0.#}\" y2=\"{Y(g):0.#}\" stroke=\"#999\" stroke-dasharray=\"4 3\"/>\n"));
        // The last point (every node) is labelled; a power of two just before it would overlap it.
        foreach (int n in grid.Where((n, i) => i == grid.Length - 1 || X(grid[^1]) - X(n) > 24))
            sb.Append(Inv($"<text x=\"{X(n):0.#}\" y=\"{Height - Bottom + 16}\" text-anchor=\"middle\">{n}</text>\n"));
        sb.Append(Inv($"<text x=\"{(Left + Width - Right) / 2}\" y=\"{Height - 12}\" text-anchor=\"middle\">nodes kept or removed, n (log scale)</text>\n"));
        sb.Append(Inv($"<text transform=\"translate(14 {(Top + Height - Bottom) / 2}) rotate(-90)\" text-anchor=\"middle\">{HtmlReport.Esc(yLabel)}</text>\n"));
        sb.Append(Inv($"<rect x=\"{Left}\" y=\"{Top}\" width=\"{Width - Left - Right}\" height=\"{Height - Top - Bottom}\" fill=\"none\" stroke=\"#888\"/>\n"));
        for (int i = 0; i < lines.Count; i++)
        {
            var points = grid.Select((n, k) => (n, v: lines[i].Values[k])).Where(p => double.IsFinite(p.v))
                .Select(p => Inv($"{X(p.n):0.#},{Y(p.v):0.#}"));
            sb.Append(Inv($"<polyline fill=\"none\" stroke=\"{Palette[i % Palette.Length]}\" stroke-width=\"2\" points=\"{string.Join(" ", points)}\"><title>{HtmlReport.Esc(lines[i].Name)}</title></polyline>\n"));
        }
        return sb.Append("</svg>\n").ToString();
    }

    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
}
