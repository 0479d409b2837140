using System.Globalization;
using System.Net;
using System.Text;

namespace RelpSae.Reports;

/// <summary>
/// A small inline-SVG chart: a plot area with linear axes at "nice" ticks, a title, axis labels and a
/// legend in its own row above the plot (so it never covers data). Text, not pixels: no native
/// graphics library travels with the tool, and the report stays a plain, diffable file.
/// </summary>
internal sealed class SvgChart
{
    public static readonly string[] Palette = ["#1f77b4", "#ff7f0e", "#2ca02c", "#d62728", "#9467bd", "#8c564b", "#e377c2", "#7f7f7f"];
    private const double Left = 64, Right = 16, Bottom = 56;
    private readonly double _width, _height, _top;
    private readonly StringBuilder _body = new();
    private double _x0, _x1, _y0, _y1;

    public SvgChart(int width, int height, string title, string xLabel, string yLabel, IReadOnlyList<string>? legend = null)
    {
        (_width, _height) = (width, height);
        _top = legend is { Count: > 0 } ? 56 : 36;
        Text(width / 2.0, 20, title, "middle", "font-size=\"15\" font-weight=\"bold\"");
        Text(Left + PlotWidth / 2, height - 10, xLabel, "middle");
        _body.Append(Inv($"<text transform=\"translate(14 {_top + PlotHeight / 2:0.#}) rotate(-90)\" text-anchor=\"middle\">{Esc(yLabel)}</text>"));
        if (legend is { Count: > 0 })
        {
            double x = Left;
            for (int i = 0; i < legend.Count; i++)
            {
                _body.Append(Inv($"<rect x=\"{x:0.#}\" y=\"30\" width=\"12\" height=\"12\" fill=\"{Palette[i % Palette.Length]}\"/>"));
                Text(x + 16, 41, legend[i], "start");
                x += 28 + 7.5 * legend[i].Length;
            }
        }
    }

    private double PlotWidth => _width - Left - Right;
    private double PlotHeight => _height - _top - Bottom;
    public double X(double v) => Left + (v - _x0) / (_x1 - _x0) * PlotWidth;
    public double Y(double v) => _top + (_y1 - v) / (_y1 - _y0) * PlotHeight;

    /// <summary>Sets the data ranges (widened to nice ticks) and draws the axes; x ticks may be given as labels instead.</summary>
    public void Axes(double xMin, double xMax, double yMin, double yMax, IReadOnlyList<(double At, string Label)>? xLabels = null)
    {
        var xTicks = xLabels is null ? NiceTicks(ref xMin, ref xMax) : null;
        var yTicks = NiceTicks(ref yMin, ref yMax);
        (_x0, _x1, _y0, _y1) = (xMin, xMax, yMin, yMax);
        _body.Append(Inv($"<rect x=\"{Left}\" y=\"{_top}\" width=\"{PlotWidth:0.#}\" height=\"{PlotHeight:0.#}\" fill=\"none\" stroke=\"#999\"/>"));
        foreach (var t in yTicks)
        {
            _body.Append(Inv($"<line x1=\"{Left}\" x2=\"{Left + PlotWidth:0.#}\" y1=\"{Y(t):0.#}\" y2=\"{Y(t):0.#}\" stroke=\"#eee\"/>"));
            Text(Left - 4, Y(t) + 4, Format(t), "end");
        }
        foreach (var (at, label) in xLabels ?? xTicks!.Select(t => (t, Format(t))).ToList())
            Text(X(at), _top + PlotHeight + 16, label, "middle");
        if (yMin < 0 && yMax > 0)
            _body.Append(Inv($"<line x1=\"{Left}\" x2=\"{Left + PlotWidth:0.#}\" y1=\"{Y(0):0.#}\" y2=\"{Y(0):0.#}\" stroke=\"#666\"/>"));
    }

    /// <summary>Points as one path of zero-length round-capped strokes (compact for thousands of points).</summary>
    public void Points(IReadOnlyList<double> xs, IReadOnlyList<double> ys, string color)
    {
        var d = new StringBuilder();
        for (int i = 0; i < xs.Count; i++) d.Append(Inv($"M{X(xs[i]):0.#} {Y(ys[i]):0.#}h0"));
        _body.Append($"<path d=\"{d}\" stroke=\"{color}\" stroke-opacity=\"0.6\" stroke-width=\"4\" stroke-linecap=\"round\"/>");
    }

    public void Line(double xa, double ya, double xb, double yb, string color, bool dashed) =>
        _body.Append(Inv($"<line x1=\"{X(xa):0.#}\" y1=\"{Y(ya):0.#}\" x2=\"{X(xb):0.#}\" y2=\"{Y(yb):0.#}\" stroke=\"{color}\"{(dashed ? " stroke-dasharray=\"5 4\"" : "")}/>"));

    /// <summary>A bar from 0 to <paramref name="value"/> centred at <paramref name="at"/>, with its value as a tooltip.</summary>
    public void Bar(double at, double width, double value, string color, string tooltip)
    {
        double top = Y(Math.Max(value, 0)), bottom = Y(Math.Min(value, 0));
        _body.Append(Inv($"<rect x=\"{X(at - width / 2):0.#}\" y=\"{top:0.#}\" width=\"{X(at + width / 2) - X(at - width / 2):0.##}\" height=\"{Math.Max(bottom - top, 0.5):0.#}\" fill=\"{color}\"><title>{Esc(tooltip)}</title></rect>"));
    }

    public string Render(string label) =>
        Inv($"<svg xmlns=\"http://www.w3.org/2000/svg\" role=\"img\" aria-label=\"{Esc(label)}\" width=\"{_width}\" height=\"{_height}\" viewBox=\"0 0 {_width} {_height}\" font-family=\"sans-serif\" font-size=\"12\">") +
        _body + "</svg>";

    private void Text(double x, double y, string text, string anchor, string extra = "") =>
        _body.Append(Inv($"<text x=\"{x:0.#}\" y=\"{y:0.#}\" text-anchor=\"{anchor}\" {extra}>{Esc(text)}</text>"));

    /// <summary>Ticks at 1, 2 or 5 × 10^k covering [min, max] with about five intervals; widens the range to them.</summary>
    private static List<double> NiceTicks(ref double min, ref double max)
    {
        if (!double.IsFinite(min) || !double.IsFinite(max)) (min, max) = (0, 1);
        if (max - min < 1e-12) (min, max) = (min - 0.5, max + 0.5);
        double raw = (max - min) / 5, power = Math.Pow(10, Math.Floor(Math.Log10(raw)));
        double step = power * (raw / power < 1.5 ? 1 : raw / power < 3.5 ? 2 : raw / power < 7.5 ? 5 : 10);
        min = Math.Floor(min / step) * step;
        max = Math.Ceiling(max / step) * step;
        var ticks = new List<double>();
        for (double t = min; t <= max + step / 2; t += step) ticks.Add(Math.Round(t / step) * step);
        return ticks;
    }

    private static string Format(double v) => v.ToString("G4", CultureInfo.InvariantCulture);
    private static string Inv(FormattableString s) => s.ToString(CultureInfo.InvariantCulture);
    private static string Esc(string s) => WebUtility.HtmlEncode(s);
}
