using System.Text.Json;
using RelpSae.Reports;

namespace RelpSae.Graphs;

/// <summary>
/// The faithfulness block of results.json: what the metric is, then per method its name, the logit's token (−1 over
/// prompts: each has its own), the metric of the model and with every node ablated, and per node threshold the feature
/// and error nodes kept, the metric and the faithfulness.
/// </summary>
public static class GraphFaithfulnessJson
{
    public const string Metric = "the graph's top logit minus the mean logit";

    /// <summary>Writes the "faithfulness" property into an object being written.</summary>
    public static void Write(Utf8JsonWriter w, IReadOnlyList<GraphFaithfulness> curves)
    {
        w.WriteStartObject("faithfulness");
        w.WriteString("metric", Metric);
        w.WriteString("ablated_to", "zero");
        w.WriteStartArray("methods");
        foreach (var c in curves)
        {
            w.WriteStartObject();
            w.WriteString("name", c.Method);
            w.WriteNumber("token", c.Token);
            w.WriteNumberOrNull("metric_model", c.Clean);
            w.WriteNumberOrNull("metric_none_kept", c.Empty);
            w.WriteStartArray("points");
            foreach (var p in c.Points)
            {
                w.WriteStartObject();
                w.WriteNumber("node_threshold", p.Threshold);
                w.WriteNumber("feature_nodes", p.FeatureNodes);
                w.WriteNumber("error_nodes", p.ErrorNodes);
                w.WriteNumberOrNull("metric", p.Metric);
                w.WriteNumberOrNull("faithfulness", p.Faithfulness);
                w.WriteEndObject();
            }
            w.WriteEndArray();
            w.WriteEndObject();
        }
        w.WriteEndArray();
        w.WriteEndObject();
    }

    /// <summary>The curves of a faithfulness block as <see cref="Write"/> wrote it.</summary>
    public static IReadOnlyList<GraphFaithfulness> Read(JsonElement block) =>
        [.. block.GetProperty("methods").EnumerateArray().Select(m => new GraphFaithfulness(m.GetProperty("name").GetString()!, m.GetProperty("token").GetInt32(),
            m.GetProperty("metric_model").ReadNumberOrNaN(), m.GetProperty("metric_none_kept").ReadNumberOrNaN(),
            [.. m.GetProperty("points").EnumerateArray().Select(p => new FaithfulnessPoint(p.GetProperty("node_threshold").GetDouble(),
                p.GetProperty("feature_nodes").GetDouble(), p.GetProperty("error_nodes").GetDouble(), p.GetProperty("metric").ReadNumberOrNaN(), p.GetProperty("faithfulness").ReadNumberOrNaN()))]))];
}
