using System.Globalization;
using System.Text;
using RelpSae.Graphs;

namespace RelpSae.Reports;

/// <summary>report.html of `evaluate graphs`: the pooled edge statistics per method and edge type, and each method's mean faithfulness curve over node thresholds.</summary>
public static class GraphReport
{
    private const int Width = 620, Height = 420;

    public static string Render(ReportHeader header, GraphSummary summary, IReadOnlyList<GraphPromptEvaluation> prompts, IReadOnlyDictionary<string, string> rules,
        GraphRunSettings settings)
    {
        var sb = new StringBuilder(HtmlReport.Head(header.Title));
        HtmlReport.AppendHeader(sb, header);
        sb.Append(string.Create(CultureInfo.InvariantCulture, $$"""
            <p>{{prompts.Count}} prompts. Each prompt's graph of {{HtmlReport.Esc(prompts.FirstOrDefault()?.GraphMethod ?? "")}} is pruned at node threshold
            {{settings.NodeThreshold}} and edge threshold {{settings.EdgeThreshold}} (at most {{settings.MaxFeatureNodes}} feature nodes); its kept edges,
            {{summary.Edges.Edges}} over all prompts, are measured against patching (attention and norms live, every other node held) and
            compared with each method's weight for them. Intervals are 95% percentile bootstraps over the edges' source nodes
            ({{summary.Edges.SourceNodes}}, each prompt's its own; {{summary.Edges.Resamples}} resamples). Relative error is Σ|w − e| / Σ|e|.</p>

            """));
        sb.Append("<h2>Edges against patching</h2>\n<table id=\"edges\"><tr><th>method</th><th>edge type</th><th>edges</th><th>pearson</th><th>spearman</th><th>sign agreement</th><th>relative error</th></tr>\n");
        foreach (var m in summary.Edges.Methods)
            foreach (var (type, s) in m.ByType.Where(t => t.Statistics.Edges > 0))
                sb.Append($"<tr><td>{HtmlReport.Esc(m.Method)}</td><td>{type}</td><td>{s.Edges}</td>{HtmlReport.Cell(s.Pearson)}{HtmlReport.Cell(s.Spearman)}" +
                          $"{HtmlReport.Cell(s.SignAgreement)}{HtmlReport.Cell(s.RelativeError)}</tr>\n");
        sb.Append("</table>\n");
        sb.Append($$"""
            <h2>Faithfulness</h2>
            <p>Each method's graph is pruned at each node threshold; its feature and error nodes are kept and every other transcoder
            feature and error node is ablated to zero in the model (transcoders spliced, attention and norms live). The metric is
            {{GraphFaithfulnessJson.Metric}}; faithfulness = (m(kept) − m(none kept)) / (m(model) − m(none kept)), a ratio of sums over prompts.
            The x axis is the mean number of feature nodes kept.</p>

            """);
        sb.Append(Curves(summary.Faithfulness)).Append('\n');
        sb.Append("<table id=\"faithfulness\"><tr><th>method</th><th>rules in force</th>");
        foreach (var p in summary.Faithfulness.FirstOrDefault()?.Points ?? []) sb.Append(string.Create(CultureInfo.InvariantCulture, $"<th>{p.Threshold:0.##}</th>"));
        sb.Append("</tr>\n");
        foreach (var c in summary.Faithfulness)
        {
            sb.Append($"<tr><td>{HtmlReport.Esc(c.Method)}</td><td>{HtmlReport.Esc(rules[c.Method])}</td>");
            foreach (var p in c.Points) sb.Append(string.Create(CultureInfo.InvariantCulture, $"<td>{HtmlReport.Num(p.Faithfulness)} <span class=\"ci\">{p.FeatureNodes:0.#} nodes</span></td>"));
            sb.Append("</tr>\n");
        }
        sb.Append("</table>\n</body></html>\n");
        return sb.ToString();
    }

    /// <summary>Faithfulness against the feature nodes kept, one line per method, with y = 1 dashed.</summary>
    private static string Curves(IReadOnlyList<GraphFaithfulness> curves)
    {
        var points = curves.SelectMany(c => c.Points).Where(p => double.IsFinite(p.Faithfulness)).ToList();
        var chart = new SvgChart(Width, Height, "faithfulness of the pruned graphs", "feature nodes kept (mean over prompts)", "faithfulness",
            [.. curves.Select(c => c.Method)]);
        chart.Axes(0, points.Select(p => p.FeatureNodes).DefaultIfEmpty(1).Max(), Math.Min(0, points.Select(p => p.Faithfulness).DefaultIfEmpty(0).Min()),
            Math.Max(1, points.Select(p => p.Faithfulness).DefaultIfEmpty(1).Max()));
        chart.Line(0, 1, points.Select(p => p.FeatureNodes).DefaultIfEmpty(1).Max(), 1, "#888", dashed: true);
        for (int i = 0; i < curves.Count; i++)
        {
            var color = SvgChart.Palette[i % SvgChart.Palette.Length];
            var finite = curves[i].Points.Where(p => double.IsFinite(p.Faithfulness)).ToList();
            for (int k = 1; k < finite.Count; k++)
                chart.Line(finite[k - 1].FeatureNodes, finite[k - 1].Faithfulness, finite[k].FeatureNodes, finite[k].Faithfulness, color, dashed: false);
            chart.Points([.. finite.Select(p => p.FeatureNodes)], [.. finite.Select(p => p.Faithfulness)], color);
        }
        return chart.Render("faithfulness curves");
    }
}
