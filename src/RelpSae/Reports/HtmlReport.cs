using System.Globalization;
using System.Net;
using System.Text;
using RelpSae.Attribution;

namespace RelpSae.Reports;

/// <summary>
/// A self-contained report.html that reads alone: what was run (the header), the statistics table with
/// its definitions, inline-SVG plots and timings, all in milliseconds.
/// </summary>
public static class HtmlReport
{
    /// <summary>Prompts whose top-feature chart is shown open; every other prompt's chart is one click away.</summary>
    private const int OpenCharts = 3;

    public static string Render(ReportHeader header, IReadOnlyList<MethodSummary> summaries, IReadOnlyList<PromptEvaluation> prompts)
    {
        var methods = summaries.Select(s => s.Name).ToList();
        double truthSeconds = prompts.Count == 0 ? double.NaN : prompts.Average(p => p.TruthSeconds);
        var sb = new StringBuilder(Head(header.Title));
        AppendHeader(sb, header);
        sb.Append($$"""
            <p>{{prompts.Count}} prompts, {{prompts.Sum(p => p.Features.Length)}} (prompt, feature) pairs. The <em>true effect</em> of a
            feature is m(clean) − m(with that feature patched to its baseline value), the SAE's error node held fixed;
            a faithful method's score equals it. Pearson r, Spearman ρ, sign agreement (the fraction of features with a
            non-zero true effect whose score has the same sign) and relative error are computed over the pooled
            (prompt, feature) pairs; <em>relative error</em> is Σ|score − true effect| / Σ|true effect| (0: every score is
            exact; 1: no better than scoring every feature 0). Top-k is the overlap of the k features largest by |score|
            and by |true effect|, per prompt, averaged. Intervals are 95% percentile-bootstrap intervals over prompts
            (1,000 resamples).</p>
            <h2>Faithfulness</h2>
            <table id="statistics"><tr><th>method</th><th>Pearson r</th><th>Spearman ρ</th><th>top-5</th><th>top-10</th>
            <th>sign agreement</th><th>relative error</th><th>ms / prompt</th></tr>

            """);
        foreach (var s in summaries)
            sb.Append($"<tr><td>{Esc(s.Name)} <span class=\"ci\">{Esc(EvaluationFiles.RulesOf(s.Name, header.GatedMlp))}</span></td>{Cell(s.Pearson)}{Cell(s.Spearman)}{Cell(s.Top5)}{Cell(s.Top10)}" +
                      $"{Cell(s.SignAgreement)}{Cell(s.RelativeError)}<td>{Ms(s.SecondsPerPrompt)}</td></tr>\n");
        sb.Append($"<tr><td>ground truth</td><td colspan=\"6\"></td><td>{Ms(truthSeconds)}</td></tr>\n</table>\n");

        sb.Append("<h2>Score against true effect</h2>\n<p>One point per (prompt, feature); the dashed line is y = x, where a faithful method's points lie.</p>\n<div id=\"scatter\">\n");
        foreach (var m in methods) sb.Append(Plots.Scatter(m, prompts)).Append('\n');
        sb.Append($"</div>\n<h2>Top features per prompt</h2>\n<p>For each prompt, the ten features with the largest |true effect| and every method's score for them. " +
                  $"The first {Math.Min(OpenCharts, prompts.Count)} are open; click a prompt to open its chart.</p>\n<div id=\"features\">\n");
        for (int i = 0; i < prompts.Count; i++)
            sb.Append($"<details{(i < OpenCharts ? " open" : "")}><summary>{Caption(prompts[i])}</summary>")
              .Append(Plots.TopFeatures(prompts[i], methods)).Append("</details>\n");
        sb.Append("</div>\n<h2>Timings</h2>\n<div id=\"timings\">\n");
        sb.Append(Plots.Timings(summaries, truthSeconds)).Append("\n</div>\n</body></html>\n");
        return sb.ToString();
    }

    /// <summary>The page's head, style and title heading, shared by the reports of both protocols.</summary>
    internal static string Head(string title) => $$"""
        <!DOCTYPE html>
        <html lang="en"><head><meta charset="utf-8"><title>{{Esc(title)}}</title>
        <style>
        body { font-family: sans-serif; margin: 2em; color: #222; max-width: 1100px; }
        table { border-collapse: collapse; margin: 1em 0; }
        th, td { border: 1px solid #bbb; padding: 4px 10px; text-align: right; }
        th:first-child, td:first-child { text-align: left; }
        #run th, #run td { text-align: left; font-weight: normal; }
        #run th { color: #555; }
        .ci { color: #777; font-size: 85%; }
        svg { margin: 6px; border: 1px solid #ddd; }
        summary { cursor: pointer; margin: 4px 0; }
        </style></head><body>
        <h1>{{Esc(title)}}</h1>

        """;

    /// <summary>The run's settings (model, SAE, hook, baseline, metric, command, version, date) as a table.</summary>
    internal static void AppendHeader(StringBuilder sb, ReportHeader header)
    {
        sb.Append("<table id=\"run\">\n");
        foreach (var (label, value) in header.Entries)
            sb.Append($"<tr><th>{Esc(label)}</th><td>{Esc(value)}</td></tr>\n");
        sb.Append("</table>\n");
    }

    /// <summary>The prompt, its metric (target and foil) and the metric's clean and baseline values.</summary>
    private static string Caption(PromptEvaluation p) =>
        Esc(string.Create(CultureInfo.InvariantCulture,
            $"prompt {p.Index}: \"{p.Prompt}\" — metric {p.Metric}: clean {p.MetricClean:0.###}, baseline {p.MetricBaseline:0.###}"));

    internal static string Cell(Estimate e) =>
        $"<td>{Num(e.Value)} <span class=\"ci\">[{Num(e.Low)}, {Num(e.High)}]</span></td>";

    internal static string Num(double v) => double.IsFinite(v) ? v.ToString("0.000", CultureInfo.InvariantCulture) : "–";

    private static string Ms(double seconds) => double.IsFinite(seconds) ? (seconds * 1000).ToString("0.00", CultureInfo.InvariantCulture) : "–";

    internal static string Esc(string s) => WebUtility.HtmlEncode(s);
}
