using System.Globalization;
using System.Text;
using System.Text.Json;
using RelpSae.Graphs;

namespace RelpSae.Reports;

/// <summary>
/// What `evaluate graphs` writes: graphs.jsonl (<see cref="Raw"/>, each prompt's measured edges and faithfulness curves),
/// results.json with the pooled `edges` block (the keys of `graph`'s) and the mean `faithfulness` curves, one CSV per
/// method (its mean curve and every prompt's) and report.html with the edge table and the curves.
/// </summary>
public static class GraphFiles
{
    /// <summary>Checks that the records can be summarised together, writes the files and returns the summary.</summary>
    public static GraphSummary WriteAll(string dir, IReadOnlyList<GraphPromptEvaluation> prompts, IReadOnlyList<string> methods, ReportHeader header, GraphRunSettings settings)
    {
        var thresholds = prompts.FirstOrDefault()?.Faithfulness.FirstOrDefault()?.Points.Select(p => p.Threshold).ToArray() ?? [];
        foreach (var p in prompts)
        {
            if (methods.FirstOrDefault(m => !p.Edges.Weights.ContainsKey(m) || p.Faithfulness.All(c => c.Method != m)) is { } missing)
                throw new RelpSaeException($"prompt {p.Index}'s graph record has no method {missing}: shards and resumed runs must use the same --methods");
            if (p.Faithfulness.FirstOrDefault(c => !c.Points.Select(x => x.Threshold).SequenceEqual(thresholds)) is { } odd)
                throw new RelpSaeException($"prompt {p.Index}'s graph record has {odd.Method}'s curve at node thresholds {string.Join(",", odd.Points.Select(x => x.Threshold))}, " +
                    $"not {string.Join(",", thresholds)}: it was not made by this run's version of evaluate graphs");
        }
        return ProtocolOutput.WriteAll<GraphPromptEvaluation, GraphSummary>(dir, Raw, prompts, methods, header, (ordered, rules) =>
        {
            var summary = GraphSummary.Summarize(ordered, methods);
            return ((IReadOnlyList<GraphSummary>)[summary], ResultsJson(summary, ordered, rules, settings), methods.Select(m => (m, Csv(m, summary, ordered))),
                GraphReport.Render(header, summary, ordered, rules, settings));
        }, (method, gated) => GraphMethod.Parse(method, settings.ResidualSaes).Describe(gated))[0];
    }

    public static string ResultsJson(GraphSummary summary, IReadOnlyList<GraphPromptEvaluation> prompts, IReadOnlyDictionary<string, string> rules, GraphRunSettings settings)
        => ProtocolOutput.Json(w =>
        {
            w.WriteStartObject();
            w.WriteString("level", "graphs");
            w.WriteStartArray("methods");
            foreach (var (name, described) in rules)
            {
                w.WriteStartObject();
                w.WriteString("name", name);
                w.WriteString("rules", described);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteString("graph_method", prompts.FirstOrDefault()?.GraphMethod);
            w.WriteNumber("node_threshold", settings.NodeThreshold);
            w.WriteNumber("edge_threshold", settings.EdgeThreshold);
            w.WriteNumber("max_feature_nodes", settings.MaxFeatureNodes);
            w.WriteNumber("edges_measured", summary.Edges.Edges);
            EdgeAgreementJson.Write(w, summary.Edges);
            GraphFaithfulnessJson.Write(w, summary.Faithfulness);
            ProtocolOutput.PerPrompt(w, prompts, p => (p.Index, p.Prompt, null), p =>
            {
                w.WriteNumber("tokens", p.Tokens);
                w.WriteNumber("active_features", p.ActiveFeatures);
                w.WriteNumber("nodes_kept", p.NodesKept);
                w.WriteNumber("edges_kept", p.EdgesKept);
                w.WriteStartObject("faithfulness");
                foreach (var c in p.Faithfulness)
                {
                    w.WriteStartArray(c.Method);
                    foreach (var point in c.Points)
                        if (double.IsFinite(point.Faithfulness)) w.WriteNumberValue(point.Faithfulness); else w.WriteNullValue();
                    w.WriteEndArray();
                }
                w.WriteEndObject();
                w.WriteNumber("seconds", p.Seconds);
            });
            w.WriteNumber("prompts", prompts.Count);
            w.WriteEndObject();
        });

    /// <summary>The mean curve (prompt "all"), then each prompt's.</summary>
    private static string Csv(string method, GraphSummary summary, IReadOnlyList<GraphPromptEvaluation> prompts)
    {
        var sb = new StringBuilder("prompt,node_threshold,feature_nodes,error_nodes,metric,faithfulness\n");
        void Rows(string prompt, GraphFaithfulness curve)
        {
            foreach (var p in curve.Points)
                sb.Append(CultureInfo.InvariantCulture, $"{prompt},{p.Threshold:R},{p.FeatureNodes:R},{p.ErrorNodes:R},{p.Metric:R},{p.Faithfulness:R}\n");
        }
        Rows("all", summary.Faithfulness.Single(c => c.Method == method));
        foreach (var p in prompts) Rows(p.Index.ToString(CultureInfo.InvariantCulture), p.Faithfulness.Single(c => c.Method == method));
        return sb.ToString();
    }

    /// <summary>The raw records: each prompt's measured edges (column by column) and curves, one JSON line.</summary>
    public static readonly RawRecords<GraphPromptEvaluation> Raw = new("graphs.jsonl", "graph record", "graph evaluation", p => p.Index, ToJsonLine, FromJson);

    public static string ToJsonLine(GraphPromptEvaluation p) => ProtocolOutput.JsonLine(w =>
    {
        w.WriteStartObject();
        w.WriteNumber("index", p.Index);
        w.WriteString("prompt", p.Prompt);
        w.WriteString("graph_method", p.GraphMethod);
        w.WriteNumber("tokens", p.Tokens);
        w.WriteNumber("active_features", p.ActiveFeatures);
        w.WriteNumber("nodes_kept", p.NodesKept);
        w.WriteNumber("edges_kept", p.EdgesKept);
        w.WriteNumber("seconds", p.Seconds);
        Array("edge_types", p.Edges.Types.Select(t => EdgeTypes.Key(t)), w.WriteStringValue);
        Array("edge_sources", p.Edges.Sources, w.WriteNumberValue);
        Array("edge_truth", p.Edges.Truth, w.WriteNumberValue);
        w.WriteStartObject("edge_weights");
        foreach (var (method, weights) in p.Edges.Weights) Array(method, weights, w.WriteNumberValue);
        w.WriteEndObject();
        GraphFaithfulnessJson.Write(w, p.Faithfulness);
        w.WriteEndObject();

        void Array<TValue>(string name, IEnumerable<TValue> values, Action<TValue> write)
        {
            w.WriteStartArray(name);
            foreach (var v in values) write(v);
            w.WriteEndArray();
        }
    });

    private static GraphPromptEvaluation FromJson(JsonElement e)
    {
        var types = e.GetProperty("edge_types").EnumerateArray().Select(t => EdgeTypes.All.FirstOrDefault(k => EdgeTypes.Key(k) == t.GetString(),
            (EdgeType)(-1))).ToArray();
        if (types.Any(t => t < 0)) throw new FormatException("an edge type that is not one of " + string.Join(", ", EdgeTypes.All.Select(EdgeTypes.Key)));
        var edges = new EdgeSet(types, [.. e.GetProperty("edge_sources").EnumerateArray().Select(x => x.GetInt32())], e.GetProperty("edge_truth").ReadDoubles(),
            e.GetProperty("edge_weights").EnumerateObject().ToDictionary(m => m.Name, m => m.Value.ReadDoubles()));
        if (edges.Sources.Length != edges.Count || edges.Weights.Values.Any(w => w.Length != edges.Count) || types.Length != edges.Count)
            throw new FormatException("edge columns of different lengths");
        return new GraphPromptEvaluation(e.GetProperty("index").GetInt32(), e.GetProperty("prompt").GetString()!, e.GetProperty("graph_method").GetString()!,
            e.GetProperty("tokens").GetInt32(), e.GetProperty("active_features").GetInt32(), e.GetProperty("nodes_kept").GetInt32(),
            e.GetProperty("edges_kept").GetInt32(), edges, GraphFaithfulnessJson.Read(e.GetProperty("faithfulness")), e.GetProperty("seconds").GetDouble());
    }
}
