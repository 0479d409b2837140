using RelpSae.Attribution;
using ScottPlot;

namespace RelpSae.Reports;

/// <summary>The report's charts, rendered with ScottPlot to PNG bytes.</summary>
internal static class Plots
{
    private const int Width = 520, Height = 420;

    /// <summary>Score against true effect for every (prompt, feature), with the y = x line of a perfect method.</summary>
    public static byte[] Scatter(string method, IReadOnlyList<PromptEvaluation> prompts) =>
        Scatter(prompts.SelectMany(p => p.Truth).ToArray(), prompts.SelectMany(p => p.Scores[method]).ToArray(),
            $"{method}: score vs true effect", "true effect  m(clean) − m(feature patched)", $"{method} score", Width, Height);

    /// <summary>Estimates against true effects, with the y = x line of a perfect method.</summary>
    public static byte[] Scatter(double[] truth, double[] scores, string title, string xLabel, string yLabel, int width, int height)
    {
        var plot = new Plot();
        var points = plot.Add.ScatterPoints(truth, scores);
        points.MarkerSize = 4;
        if (truth.Length > 0)
        {
            double lo = Math.Min(truth.Min(), scores.Min()), hi = Math.Max(truth.Max(), scores.Max());
            var line = plot.Add.Line(lo, lo, hi, hi);
            line.LineColor = Colors.Gray;
            line.LinePattern = LinePattern.Dashed;
        }
        plot.Title(title);
        plot.XLabel(xLabel);
        plot.YLabel(yLabel);
        return plot.GetImageBytes(width, height, ImageFormat.Png);
    }

    /// <summary>For one prompt: the ten features with the largest true effect, each method's score beside it.</summary>
    public static byte[] TopFeatures(PromptEvaluation prompt, IReadOnlyList<string> methods)
    {
        var top = Enumerable.Range(0, prompt.Features.Length)
            .OrderByDescending(i => Math.Abs(prompt.Truth[i])).Take(10).ToArray();
        var series = new List<(string Name, double[] Values)> { ("ground truth", top.Select(i => prompt.Truth[i]).ToArray()) };
        series.AddRange(methods.Select(m => (m, top.Select(i => prompt.Scores[m][i]).ToArray())));

        var plot = new Plot();
        var palette = new ScottPlot.Palettes.Category10();
        int groups = series.Count;
        for (int s = 0; s < groups; s++)
        {
            var bars = top.Select((_, g) => new Bar
            {
                Position = g * (groups + 1) + s,
                Value = series[s].Values[g],
                FillColor = palette.GetColor(s),
            }).ToArray();
            var barPlot = plot.Add.Bars(bars);
            barPlot.LegendText = series[s].Name;
        }
        var ticks = top.Select((f, g) => new Tick(g * (groups + 1) + (groups - 1) / 2.0, $"#{prompt.Features[f]}")).ToArray();
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(ticks);
        plot.ShowLegend(Alignment.UpperRight);
        plot.Title($"prompt {prompt.Index}: top features by true effect");
        plot.YLabel("effect / score");
        return plot.GetImageBytes(Width * 2, Height, ImageFormat.Png);
    }

    /// <summary>Seconds per prompt for each method and for the ground truth.</summary>
    public static byte[] Timings(IReadOnlyList<MethodSummary> summaries, double truthSeconds)
    {
        var names = summaries.Select(s => s.Name).Append("ground truth").ToArray();
        var values = summaries.Select(s => s.SecondsPerPrompt).Append(truthSeconds).ToArray();
        var plot = new Plot();
        plot.Add.Bars(values);
        plot.Axes.Bottom.TickGenerator = new ScottPlot.TickGenerators.NumericManual(
            names.Select((n, i) => new Tick(i, n)).ToArray());
        plot.Axes.Margins(bottom: 0);
        plot.Title("seconds per prompt");
        return plot.GetImageBytes(Width, Height, ImageFormat.Png);
    }
}
