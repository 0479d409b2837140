using RelpSae.Attribution;
using RelpSae.Reports;

namespace RelpSae.Browser.Tests;

public class CircuitReportRendersTests
{
    /// <summary>report.html of `evaluate --circuit` in a real browser: both curve charts drawn, one visible line per method in each.</summary>
    [Fact]
    public async Task CircuitReportDrawsBothCurvesWithALinePerMethod()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        string[] methods = ["gradient", "ig", "relp"];
        var grid = CircuitEvaluation.GridFor(40);
        var prompts = Enumerable.Range(0, 3).Select(i => new CircuitEvaluation(i, $"prompt {i}", "logit", "corrupt", ["blocks.0.hook_resid_post"], false, 40, grid,
            methods.Select((m, k) => (m, new CircuitCurve(2, 0, grid.Select(n => 2 * Math.Log(n) / Math.Log(40) * (1 - 0.1 * k)).ToArray(),
                grid.Select(n => 2 - 2 * Math.Log(n) / Math.Log(40)).ToArray(), 0.001, 0.01))).ToDictionary(p => p.m, p => p.Item2), 0.001)).ToList();
        CircuitFiles.WriteAll(dir, prompts, methods, new ReportHeader("browser test", [new("model", "none: synthetic curves")]));

        await using var chromium = await HeadlessChromium.OpenAsync(Path.Combine(dir, "report.html"));
        var page = chromium.Page;

        var charts = await page.EvalOnSelectorAllAsync<double[][]>("#curves svg", "s => s.map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height]; })");
        Assert.Equal(2, charts.Length);
        // As wide as the page's content (the tables), not a fixed 560 px on a 1280 px page.
        double content = await page.EvalOnSelectorAsync<double>("#curves", "e => e.getBoundingClientRect().width");
        Assert.All(charts, c => Assert.True(c[0] > 0.9 * content && c[0] > 800 && c[1] > 0.6 * c[0], $"chart {c[0]}x{c[1]} in {content} px"));
        // Each line spans the plot: its drawn box is most of the plot's width.
        var widths = await page.EvalOnSelectorAllAsync<double[]>("#curves polyline", "ls => ls.map(l => l.getBBox().width)");
        Assert.Equal(2 * methods.Length, widths.Length);
        Assert.All(widths, w => Assert.True(w > 400, $"a curve only {w} px wide in the chart's own units"));
        Assert.Equal(1 + methods.Length, await page.Locator("#circuit tr").CountAsync());
        Assert.Empty(chromium.Errors);
    }
}
