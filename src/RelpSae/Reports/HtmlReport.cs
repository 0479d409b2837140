using System.Globalization;
using System.Net;
using System.Text;
using RelpSae.Attribution;

namespace RelpSae.Reports;

/// <summary>A self-contained report.html: the statistics table, plots embedded as PNG data URIs, timings.</summary>
public static class HtmlReport
{
    public static string Render(string title, IReadOnlyList<MethodSummary> summaries, IReadOnlyList<PromptEvaluation> prompts)
    {
        var methods = summaries.Select(s => s.Name).ToList();
        double truthSeconds = prompts.Count == 0 ? double.NaN : prompts.Average(p => p.TruthSeconds);
        var sb = new StringBuilder(Head(title));
        sb.Append($$"""
            <p>{{prompts.Count}} prompts, {{prompts.Sum(p => p.Features.Length)}} (prompt, feature) pairs. The true effect of a
            feature is m(clean) − m(with that feature patched to its baseline value), the error node held fixed;
            a faithful method's score equals it. Intervals are 95% bootstrap intervals over prompts.</p>
            <h2>Faithfulness</h2>
            <table id="statistics"><tr><th>method</th><th>Pearson r</th><th>Spearman ρ</th><th>top-5</th><th>top-10</th>
            <th>sign agreement</th><th>relative error</th><th>ms / prompt</th></tr>

            """);
        foreach (var s in summaries)
            sb.Append($"<tr><td>{Esc(s.Name)} <span class=\"ci\">{Esc(EvaluationFiles.RulesOf(s.Name))}</span></td>{Cell(s.Pearson)}{Cell(s.Spearman)}{Cell(s.Top5)}{Cell(s.Top10)}" +
                      $"{Cell(s.SignAgreement)}{Cell(s.RelativeError)}<td>{Ms(s.SecondsPerPrompt)}</td></tr>\n");
        sb.Append($"<tr><td>ground truth</td><td colspan=\"6\"></td><td>{Ms(truthSeconds)}</td></tr>\n</table>\n");

        sb.Append("<h2>Score against true effect</h2>\n<div id=\"scatter\">\n");
        foreach (var m in methods) sb.Append(Img(Plots.Scatter(m, prompts), $"{m} scatter")).Append('\n');
        sb.Append("</div>\n<h2>Top features</h2>\n<div id=\"features\">\n");
        foreach (var p in prompts.Take(3))
            sb.Append($"<p>{Esc(p.Prompt)}</p>").Append(Img(Plots.TopFeatures(p, methods), $"prompt {p.Index} top features")).Append('\n');
        sb.Append("</div>\n<h2>Timings</h2>\n<div id=\"timings\">\n");
        sb.Append(Img(Plots.Timings(summaries, truthSeconds), "timings")).Append("\n</div>\n</body></html>\n");
        return sb.ToString();
    }

    /// <summary>The page's head, style and title heading, shared by the reports of both protocols.</summary>
    internal static string Head(string title) => $$"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>{{Esc(title)}}</title>
        <style>
        body { font-family: sans-serif; margin: 2em; color: #222; }
        table { border-collapse: collapse; margin: 1em 0; }
        th, td { border: 1px solid #bbb; padding: 4px 10px; text-align: right; }
        th:first-child, td:first-child { text-align: left; }
        .ci { color: #777; font-size: 85%; }
        img { margin: 6px; border: 1px solid #ddd; }
        </style></head><body>
        <h1>{{Esc(title)}}</h1>

        """;

    internal static string Cell(Estimate e) =>
        $"<td>{Num(e.Value)} <span class=\"ci\">[{Num(e.Low)}, {Num(e.High)}]</span></td>";

    internal static string Num(double v) => double.IsFinite(v) ? v.ToString("0.000", CultureInfo.InvariantCulture) : "–";

    private static string Ms(double seconds) => double.IsFinite(seconds) ? (seconds * 1000).ToString("0.00", CultureInfo.InvariantCulture) : "–";

    internal static string Img(byte[] png, string alt) =>
        $"<img alt=\"{Esc(alt)}\" src=\"data:image/png;base64,{Convert.ToBase64String(png)}\">";

    internal static string Esc(string s) => WebUtility.HtmlEncode(s);
}
