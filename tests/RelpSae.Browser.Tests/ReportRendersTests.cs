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
        EvaluationFiles.WriteAll(dir, prompts, ["gradient", "relp"], "browser test");

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

        // Two scatter plots, three top-feature charts (first three prompts), one timing chart — all decoded.
        var sizes = await page.EvalOnSelectorAllAsync<int[][]>("img", "imgs => imgs.map(i => [i.naturalWidth, i.naturalHeight])");
        Assert.Equal(6, sizes.Length);
        Assert.All(sizes, s => Assert.True(s[0] > 100 && s[1] > 100, $"image {s[0]}x{s[1]} did not render"));
        Assert.Equal(4, await page.Locator("#statistics tr").CountAsync()); // header, two methods, ground truth
        Assert.Empty(errors);
    }
}
