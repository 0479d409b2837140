using System.Globalization;
using System.Net;
using System.Text;
using RelpSae.Attribution;

namespace RelpSae.Reports;

/// <summary>
/// report.html of component patching, laid out like the RelP paper's Table 1: one row per method, one
/// column per component type (residual / attention / MLP / heads), a table each for Pearson r, Spearman ρ
/// and sign agreement; then estimate-vs-effect scatter plots and the times.
/// </summary>
public static class ComponentReport
{
    private static readonly Dictionary<ComponentKind, string> Columns = new()
    {
        [ComponentKind.ResidPre] = "residual (resid_pre)", [ComponentKind.AttnOut] = "attention (attn_out)",
        [ComponentKind.MlpOut] = "MLP (mlp_out)", [ComponentKind.Head] = "heads",
    };

    public static string Render(ReportHeader header, IReadOnlyList<ComponentSummary> summaries, IReadOnlyList<ComponentEvaluation> prompts,
        IReadOnlyList<string> methods, IReadOnlyDictionary<string, string> rules)
    {
        var kinds = summaries.Select(s => s.Kind).Distinct().ToList();
        var sb = new StringBuilder(HtmlReport.Head(header.Title));
        HtmlReport.AppendHeader(sb, header);
        sb.Append($$"""
            <p>{{prompts.Count}} prompts, {{prompts.Sum(p => p.Components.Length)}} patches. Each component at each position is set
            to its value in the corrupted run and the rest of the model re-run; its true effect is m(clean) − m(patched).
            A method estimates it as (a_clean − a_corr)·c with c read at the component. Intervals are 95% bootstrap
            intervals over prompts.</p>

            """);
        foreach (var (name, pick) in new (string, Func<ComponentSummary, Estimate>)[]
                 { ("Pearson r", s => s.Pearson), ("Spearman ρ", s => s.Spearman), ("sign agreement", s => s.SignAgreement) })
        {
            sb.Append($"<h2>{HtmlReport.Esc(name)}</h2>\n<table class=\"components\"><tr><th>method</th>");
            foreach (var k in kinds) sb.Append($"<th>{HtmlReport.Esc(Columns[k])}</th>");
            sb.Append("</tr>\n");
            foreach (var m in methods)
            {
                sb.Append($"<tr><td>{HtmlReport.Esc(m)}</td>");
                foreach (var k in kinds) sb.Append(HtmlReport.Cell(pick(summaries.Single(s => s.Kind == k && s.Method == m))));
                sb.Append("</tr>\n");
            }
            sb.Append("<tr><td>patches</td>");
            foreach (var k in kinds) sb.Append($"<td>{summaries.First(s => s.Kind == k).Patches}</td>");
            sb.Append("</tr>\n</table>\n");
        }

        var (forward, methodSeconds, truth) = ComponentFiles.Seconds(prompts, methods);
        sb.Append("<h2>Methods and times</h2>\n<table id=\"times\"><tr><th>method</th><th>rules in force</th><th>estimates, ms / prompt</th></tr>\n");
        foreach (var m in methods)
            sb.Append($"<tr><td>{HtmlReport.Esc(m)}</td><td>{HtmlReport.Esc(rules[m])}</td><td>{Ms(forward + methodSeconds[m])}</td></tr>\n");
        sb.Append($"<tr><td>ground truth</td><td></td><td>{Ms(truth)}</td></tr>\n</table>\n");
        sb.Append($"<p>Estimates include the two shared forward passes ({Ms(forward)} ms).</p>\n");

        sb.Append("<h2>Estimate against true effect</h2>\n<div id=\"scatter\">\n");
        foreach (var m in methods)
            foreach (var k in kinds)
            {
                var (t, e) = Points(prompts, m, k);
                sb.Append(Plots.Scatter(t, e, $"{m}: {Component.TypeName(k)}", "true effect  m(clean) - m(patched)", $"{m} estimate", 360, 300));
            }
        sb.Append("\n</div>\n</body></html>\n");
        return sb.ToString();
    }

    private static (double[] Truth, double[] Estimates) Points(IReadOnlyList<ComponentEvaluation> prompts, string method, ComponentKind kind)
    {
        var at = prompts.SelectMany(p => Enumerable.Range(0, p.Components.Length).Where(i => p.Components[i].Kind == kind).Select(i => (p, i))).ToList();
        return (at.Select(x => x.p.Truth[x.i]).ToArray(), at.Select(x => x.p.Scores[method][x.i]).ToArray());
    }

    private static string Ms(double seconds) => double.IsFinite(seconds) ? (seconds * 1000).ToString("0.0", CultureInfo.InvariantCulture) : "–";
}
