using RelpSae.Attribution;

namespace RelpSae.Reports;

/// <summary>The report's charts, as inline SVG.</summary>
internal static class Plots
{
    private const int Width = 520, Height = 420;

    /// <summary>Score against true effect for every (prompt, feature), with the y = x line of a perfect method.</summary>
    public static string Scatter(string method, IReadOnlyList<PromptEvaluation> prompts) =>
        Scatter(prompts.SelectMany(p => p.Truth).ToArray(), prompts.SelectMany(p => p.Scores[method]).ToArray(),
            $"{method}: score vs true effect", "true effect  m(clean) - m(feature patched)", $"{method} score", Width, Height);

    /// <summary>Estimates against true effects, with the y = x line of a perfect method.</summary>
    public static string Scatter(double[] truth, double[] scores, string title, string xLabel, string yLabel, int width, int height)
    {
        double lo = truth.Length == 0 ? 0 : Math.Min(truth.Min(), scores.Min()), hi = truth.Length == 0 ? 1 : Math.Max(truth.Max(), scores.Max());
        var chart = new SvgChart(width, height, title, xLabel, yLabel);
        chart.Axes(lo, hi, lo, hi);
        chart.Line(lo, lo, hi, hi, "#888", dashed: true);
        chart.Points(truth, scores, SvgChart.Palette[0]);
        return chart.Render($"{title} scatter");
    }

    /// <summary>For one prompt: the ten features with the largest true effect, each method's score beside it.</summary>
    public static string TopFeatures(PromptEvaluation prompt, IReadOnlyList<string> methods)
    {
        var top = Enumerable.Range(0, prompt.Features.Length)
            .OrderByDescending(i => Math.Abs(prompt.Truth[i])).Take(10).ToArray();
        var series = new List<(string Name, double[] Values)> { ("ground truth", top.Select(i => prompt.Truth[i]).ToArray()) };
        series.AddRange(methods.Select(m => (m, top.Select(i => prompt.Scores[m][i]).ToArray())));
        var all = series.SelectMany(s => s.Values).DefaultIfEmpty(0).ToArray();
        int groups = series.Count;
        var chart = new SvgChart(Width * 2, Height, $"prompt {prompt.Index}: top features by true effect", "feature", "effect / score",
            series.Select(s => s.Name).ToList());
        chart.Axes(-1, top.Length * (groups + 1) - 1, Math.Min(0, all.Min()), Math.Max(0, all.Max()),
            top.Select((f, g) => (g * (groups + 1) + (groups - 1) / 2.0, $"#{prompt.Features[f]}")).ToList());
        for (int s = 0; s < groups; s++)
            for (int g = 0; g < top.Length; g++)
                chart.Bar(g * (groups + 1) + s, 0.9, series[s].Values[g], SvgChart.Palette[s % SvgChart.Palette.Length],
                    $"#{prompt.Features[top[g]]} {series[s].Name}: {series[s].Values[g]:G4}");
        return chart.Render($"prompt {prompt.Index} top features");
    }

    /// <summary>Milliseconds per prompt for each method and for the ground truth.</summary>
    public static string Timings(IReadOnlyList<MethodSummary> summaries, double truthSeconds)
    {
        var names = summaries.Select(s => s.Name).Append("ground truth").ToArray();
        var ms = summaries.Select(s => s.SecondsPerPrompt * 1e3).Append(truthSeconds * 1e3).ToArray();
        var chart = new SvgChart(Width, Height, "milliseconds per prompt", "", "ms / prompt");
        chart.Axes(-0.5, names.Length - 0.5, 0, ms.Where(double.IsFinite).DefaultIfEmpty(1).Max(), names.Select((n, i) => ((double)i, n)).ToList());
        for (int i = 0; i < names.Length; i++)
            if (double.IsFinite(ms[i])) chart.Bar(i, 0.7, ms[i], SvgChart.Palette[0], $"{names[i]}: {ms[i]:0.00} ms");
        return chart.Render("timings");
    }
}
