using System.Globalization;
using System.Text;
using RelpSae.Attribution;

namespace RelpSae.Reports;

/// <summary>report.html of circuit evaluation: faithfulness and completeness curves over log n, one line per method, and a table of areas, n at F ≥ 0.8 and times.</summary>
public static class CircuitReport
{
    public static string Render(ReportHeader header, IReadOnlyList<CircuitSummary> summaries, IReadOnlyList<CircuitEvaluation> prompts, IReadOnlyDictionary<string, string> rules)
    {
        var first = prompts.FirstOrDefault();
        var sb = new StringBuilder(HtmlReport.Head(header.Title));
        HtmlReport.AppendHeader(sb, header);
        sb.Append($$"""
            <p>{{prompts.Count}} prompts; SAEs at {{HtmlReport.Esc(string.Join(", ", first?.Hooks ?? []))}}; {{(prompts.Count == 0 ? 0 : prompts.Max(p => p.Nodes))}} nodes
            ({{(first?.PerPosition == true ? "each feature and error node at each position" : "each feature and each SAE's error node, summed over positions")}});
            ablated nodes take their {{HtmlReport.Esc(first?.Baseline ?? "")}} value. Each method ranks the nodes by |score|. Faithfulness
            F(n) = (m(top-n kept, the rest ablated) − m(all ablated)) / (m(model) − m(all ablated)); completeness is the same with the
            top-n removed and the rest kept. Both are ratios of sums over prompts. Areas are over log n, divided by its range
            (a faithful ranking: large faithfulness area, small completeness area); intervals are 95% bootstrap intervals over prompts.</p>

            """);
        if (summaries.Count > 0 && summaries[0].Grid.Length > 0)
        {
            var grid = summaries[0].Grid;
            sb.Append("<h2>Curves</h2>\n<div id=\"curves\">\n");
            sb.Append(CircuitChart.Render("faithfulness F(n): top-n kept", "faithfulness", grid, summaries.Select(s => (s.Method, s.Faithfulness)).ToList(), CircuitSummary.Threshold));
            sb.Append(CircuitChart.Render("completeness: top-n removed", "completeness", grid, summaries.Select(s => (s.Method, s.Completeness)).ToList()));
            sb.Append("</div>\n");
        }
        sb.Append("<h2>Areas and times</h2>\n<table id=\"circuit\"><tr><th>method</th><th>rules in force</th><th>faithfulness area</th><th>completeness area</th>" +
                  $"<th>smallest n with F ≥ {CircuitSummary.Threshold}</th><th>node scores, ms / prompt</th><th>curve pass, ms / prompt</th></tr>\n");
        foreach (var s in summaries)
            sb.Append($"<tr><td>{HtmlReport.Esc(s.Method)}</td><td>{HtmlReport.Esc(rules[s.Method])}</td>{HtmlReport.Cell(s.FaithfulnessArea)}{HtmlReport.Cell(s.CompletenessArea)}" +
                      $"{Count(s.NAt80)}<td>{Ms(s.ScoreSeconds)}</td><td>{Ms(s.AblationSeconds)}</td></tr>\n");
        sb.Append("</table>\n</body></html>\n");
        return sb.ToString();
    }

    private static string Count(Estimate e) => double.IsFinite(e.Value)
        ? $"<td>{e.Value:0} <span class=\"ci\">[{Num(e.Low)}, {Num(e.High)}]</span></td>"
        : "<td>never</td>";

    private static string Num(double v) => double.IsFinite(v) ? v.ToString("0", CultureInfo.InvariantCulture) : "–";

    private static string Ms(double seconds) => double.IsFinite(seconds) ? (seconds * 1000).ToString("0.0", CultureInfo.InvariantCulture) : "–";
}
