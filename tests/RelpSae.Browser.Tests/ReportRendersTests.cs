using Microsoft.Playwright;
using RelpSae.Attribution;
using RelpSae.Reports;

namespace RelpSae.Browser.Tests;

public class ReportRendersTests
{
    // Debian's chromium package; Playwright's own browser download is not reachable here.
    private const string Chromium = "/usr/bin/chromium";

    [Fact]
    public async Task ReportShowsEveryPlotWithoutConsoleErrors()
    {
        Assert.True(File.Exists(Chromium), $"{Chromium} is missing: apt-get install chromium (.ci/run does)");
        var dir = Directory.CreateTempSubdirectory().FullName;
        var rng = new Random(1);
        var prompts = Enumerable.Range(0, 4).Select(i =>
        {
            var truth = Enumerable.Range(0, 12).Select(_ => rng.NextDouble() - 0.5).ToArray();
            return new PromptEvaluation(i, $"prompt {i}", "logit", 1, 0, Enumerable.Range(0, 12).ToArray(), truth,
                new Dictionary<string, double[]> { ["gradient"] = truth.Select(t => t + 0.1 * rng.NextDouble()).ToArray(), ["relp"] = truth },
                new Dictionary<string, double> { ["gradient"] = 0.1, ["relp"] = 0.1 }, 1.0);
        }).ToList();
        EvaluationFiles.WriteAll(dir, prompts, ["gradient", "relp"], new ReportHeader("browser test", [new("model", "m")]));

        using var playwright = await Playwright.CreateAsync();
        await using var browser = await playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Chromium,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        var page = await browser.NewPageAsync();
        var errors = new List<string>();
        page.Console += (_, m) => { if (m.Type == "error") errors.Add(m.Text); };
        page.PageError += (_, e) => errors.Add(e);
        await page.GotoAsync(new Uri(Path.Combine(dir, "report.html")).AbsoluteUri);

        // Two scatter plots, a top-feature chart for each of the four prompts, one timing chart — all laid out.
        var sizes = await page.EvalOnSelectorAllAsync<double[][]>("svg", "svgs => svgs.map(s => { const r = s.getBoundingClientRect(); return [r.width, r.height]; })");
        Assert.Equal(7, sizes.Length);
        Assert.Equal(4, await page.Locator("#features details").CountAsync());
        await page.Locator("#features details").Last.Locator("summary").ClickAsync(); // closed charts open on a click
        Assert.All(await page.EvalOnSelectorAllAsync<double[][]>("svg", "svgs => svgs.map(s => { const r = s.getBoundingClientRect(); return [r.width, r.height]; })"),
            s => Assert.True(s[0] > 100 && s[1] > 100, $"chart {s[0]}x{s[1]} did not render"));
        // The legend never covers a bar: no legend swatch's box meets a bar's box.
        int overlaps = await page.EvaluateAsync<int>("""
            () => [...document.querySelectorAll('#features svg')].reduce((n, svg) => {
              const boxes = sel => [...svg.querySelectorAll(sel)].map(e => e.getBoundingClientRect());
              const legend = boxes(':scope > rect[y="30"]'), bars = boxes('rect:has(title)');
              return n + legend.filter(l => bars.some(b => l.left < b.right && b.left < l.right && l.top < b.bottom && b.top < l.bottom)).length;
            }, 0)
            """);
        Assert.Equal(0, overlaps);
        Assert.Contains("Σ|score − true effect| / Σ|true effect|", await page.InnerTextAsync("body"));
        Assert.Equal("m", await page.InnerTextAsync("#run td"));
        Assert.Equal(4, await page.Locator("#statistics tr").CountAsync()); // header, two methods, ground truth
        Assert.Empty(errors);
    }
}
