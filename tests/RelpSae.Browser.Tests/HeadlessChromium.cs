using Microsoft.Playwright;

namespace RelpSae.Browser.Tests;

/// <summary>A page of Debian's headless chromium (Playwright's own browser download is not reachable here) that collects console and page errors.</summary>
internal sealed class HeadlessChromium : IAsyncDisposable
{
    public const string Executable = "/usr/bin/chromium";

    private IPlaywright playwright = null!;
    private IBrowser browser = null!;

    public IPage Page { get; private set; } = null!;
    public List<string> Errors { get; } = [];

    public static async Task<HeadlessChromium> OpenAsync(string htmlFile)
    {
        Assert.True(File.Exists(Executable), $"{Executable} is missing: apt-get install chromium (.ci/run does)");
        var session = new HeadlessChromium { playwright = await Playwright.CreateAsync() };
        session.browser = await session.playwright.Chromium.LaunchAsync(new()
        {
            ExecutablePath = Executable,
            Headless = true,
            Args = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync"],
        });
        session.Page = await session.browser.NewPageAsync();
        session.Page.Console += (_, m) => { if (m.Type == "error") session.Errors.Add(m.Text); };
        session.Page.PageError += (_, e) => session.Errors.Add(e);
        await session.Page.GotoAsync(new Uri(htmlFile).AbsoluteUri);
        return session;
    }

    public async ValueTask DisposeAsync()
    {
        await browser.DisposeAsync();
        playwright.Dispose();
    }
}
