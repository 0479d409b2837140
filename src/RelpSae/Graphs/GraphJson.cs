using System.Text.Json;
using RelpSae.Formats;
using RelpSae.Reports;

namespace RelpSae.Graphs;

/// <summary>What a graph file says about where it came from, beside the graph itself.</summary>
public sealed record GraphFileInfo(string Slug, string Scan, IReadOnlyList<string> TranscoderList, string Prompt, string Model,
    double NodeThreshold, double EdgeThreshold, GraphScores Scores, GraphScores PrunedScores);

/// <summary>
/// A pruned attribution graph as circuit-tracer's create_graph_files writes it (frontend/graph_models.py's Model:
/// metadata, qParams, nodes, links), so that circuit-tracer's and Neuronpedia's viewers read it. Node ids: features
/// {layer}_{feature}_{position}, embeddings E_{token}_{position}, logits {layers + 1}_{token}_{position}, as circuit-tracer's;
/// error nodes err_{layer}_{position}, where circuit-tracer's 0_{layer}_{position} is also the id of layer 0's feature
/// {layer} at that position (its viewer keys nodes on node_id, so one would hide the other). "influence" is the node's
/// cumulative influence share, as circuit-tracer's.
/// Kept: the nodes the pruning keeps that a kept edge touches, every embedding and logit; every kept edge between them.
/// Ours besides: each feature and logit node's "bias" (the constant its incoming edges leave), and in the metadata the
/// method, the model, the edge threshold and the graph's scores.
/// </summary>
public static class GraphJson
{
    public const string FileName = "graph.json";
    public const string MetadataFileName = "graph-metadata.json";

    /// <summary>
    /// The feature_type of a residual-stream SAE's feature and of its error node. circuit-tracer knows "cross layer
    /// transcoder" and "mlp reconstruction error" only; its viewer draws any other feature type as a feature and any type
    /// that holds "error" as an error node, so these say what the nodes are and still draw.
    /// </summary>
    public const string ResidualFeature = "residual stream sae", ResidualError = "residual reconstruction error";

    /// <summary>circuit-tracer's process_token: newlines, tabs and carriage returns made visible.</summary>
    public static string ProcessToken(string token) => token.Replace("\n", "⏎").Replace("\t", "→").Replace("\r", "↵");

    /// <param name="measured">Each kept edge's true direct effect (target, source), written as the link's "measured"; null: none.</param>
    /// <param name="dashboard">A feature node's dashboard (one entry of features.json, as JSON text), written as its
    /// <see cref="GraphViewer.DashboardKey"/>; null where there is none.</param>
    public static void Write(string folder, AttributionGraph graph, GraphPruning pruning, GraphFileInfo info, Func<int, string> tokenText,
        Func<int, int, double?>? measured = null, Func<GraphNode, string?>? dashboard = null)
    {
        int n = graph.Count;
        var ids = graph.Nodes.Select(NodeId).ToArray();
        var linked = new bool[n];
        for (int t = 0; t < n; t++)
            for (int s = 0; s < n; s++)
                if (pruning.EdgeMask[(long)t * n + s] && pruning.NodeMask[t] && pruning.NodeMask[s]) linked[t] = linked[s] = true;
        bool Used(int i) => pruning.NodeMask[i] && (linked[i] || graph.Nodes[i].Kind is GraphNodeKind.Embedding or GraphNodeKind.Logit);

        AtomicFile.Write(Path.Combine(folder, FileName), stream =>
        {
            using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            w.WriteStartObject();
            w.WritePropertyName("metadata");
            WriteMetadata(w, graph, info, tokenText);
            w.WriteStartObject("qParams");
            w.WriteStartArray("pinnedIds"); w.WriteEndArray();
            w.WriteStartArray("supernodes"); w.WriteEndArray();
            w.WriteString("linkType", "both");
            w.WriteString("clickedId", "");
            w.WriteString("sg_pos", "");
            w.WriteEndObject();
            w.WriteStartArray("nodes");
            for (int i = 0; i < n; i++)
                if (Used(i)) WriteNode(w, graph, i, ids[i], pruning.CumulativeScores[i], tokenText, dashboard?.Invoke(graph.Nodes[i]));
            w.WriteEndArray();
            w.WriteStartArray("links");
            for (int t = 0; t < n; t++)
                for (int s = 0; s < n; s++)
                {
                    if (!pruning.EdgeMask[(long)t * n + s] || !Used(t) || !Used(s)) continue;
                    w.WriteStartObject();
                    w.WriteString("source", ids[s]);
                    w.WriteString("target", ids[t]);
                    w.WriteNumber("weight", graph.Edge(t, s));
                    if (measured?.Invoke(t, s) is { } effect) w.WriteNumberOrNull("measured", effect);
                    w.WriteEndObject();
                }
            w.WriteEndArray();
            w.WriteEndObject();
        });
        // circuit-tracer's local server lists the graphs of a folder from this file.
        AtomicFile.Write(Path.Combine(folder, MetadataFileName), stream =>
        {
            using var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true });
            w.WriteStartObject();
            w.WriteStartArray("graphs");
            WriteMetadata(w, graph, info, tokenText);
            w.WriteEndArray();
            w.WriteEndObject();
        });
    }

    public static string NodeId(GraphNode node) => node.Kind switch
    {
        GraphNodeKind.Feature => $"{node.Layer}_{node.Index}_{node.Position}",
        GraphNodeKind.Error => $"err_{node.Layer}_{node.Position}",
        GraphNodeKind.Embedding => $"E_{node.Index}_{node.Position}",
        _ => $"{node.Layer + 1}_{node.Index}_{node.Position}",
    };

    private static void WriteMetadata(Utf8JsonWriter w, AttributionGraph graph, GraphFileInfo info, Func<int, string> tokenText)
    {
        w.WriteStartObject();
        w.WriteString("slug", info.Slug);
        w.WriteString("scan", info.Scan);
        w.WriteStartArray("transcoder_list");
        foreach (var t in info.TranscoderList) w.WriteStringValue(t);
        w.WriteEndArray();
        w.WriteStartArray("prompt_tokens");
        foreach (var t in graph.Tokens) w.WriteStringValue(ProcessToken(tokenText(t)));
        w.WriteEndArray();
        w.WriteString("prompt", info.Prompt);
        w.WriteNumber("node_threshold", info.NodeThreshold);
        w.WriteNumber("edge_threshold", info.EdgeThreshold);
        w.WriteString("method", graph.Method);
        w.WriteString("model", info.Model);
        w.WriteNumberOrNull("replacement_score", info.Scores.Replacement);
        w.WriteNumberOrNull("completeness_score", info.Scores.Completeness);
        w.WriteNumberOrNull("pruned_replacement_score", info.PrunedScores.Replacement);
        w.WriteNumberOrNull("pruned_completeness_score", info.PrunedScores.Completeness);
        w.WriteEndObject();
    }

    private static void WriteNode(Utf8JsonWriter w, AttributionGraph graph, int i, string id, double influence, Func<int, string> tokenText, string? dashboard)
    {
        var node = graph.Nodes[i];
        w.WriteStartObject();
        w.WriteString("node_id", id);
        switch (node.Kind)
        {
            case GraphNodeKind.Feature:
                Common(w, node.Index, node.Layer.ToString(), node.Position, graph.ResidualSaes ? ResidualFeature : "cross layer transcoder", $"{node.Layer}_{node.Index}-0");
                w.WriteNumberOrNull("influence", influence);
                w.WriteNumber("activation", node.Activation);
                break;
            case GraphNodeKind.Error:
                Common(w, -1, node.Layer.ToString(), node.Position, graph.ResidualSaes ? ResidualError : "mlp reconstruction error", $"{node.Layer}_{node.Position}-0");
                w.WriteNumberOrNull("influence", influence);
                w.WriteNull("activation");
                break;
            case GraphNodeKind.Embedding:
                Common(w, node.Position, "E", node.Position, "embedding", $"E_{node.Index}-{node.Position}");
                w.WriteNumberOrNull("influence", influence);
                w.WriteNull("activation");
                break;
            default:
                int k = i - graph.LogitStart;
                float p = graph.LogitProbabilities[k];
                Common(w, node.Index, (node.Layer + 1).ToString(), node.Position, "logit", $"L_{node.Index}-{node.Position}", p, k == 0,
                    $"Output \"{ProcessToken(tokenText(node.Index))}\" (p={p:F3})");
                w.WriteNull("influence");
                w.WriteNull("activation");
                break;
        }
        if (node.Kind is GraphNodeKind.Feature or GraphNodeKind.Logit) w.WriteNumberOrNull("bias", graph.Bias[i]);
        if (dashboard is not null)
        {
            w.WritePropertyName(GraphViewer.DashboardKey);
            w.WriteRawValue(dashboard);
        }
        w.WriteEndObject();
    }

    private static void Common(Utf8JsonWriter w, int feature, string layer, int position, string type, string jsNodeId,
        float tokenProbability = 0, bool targetLogit = false, string clerp = "")
    {
        w.WriteNumber("feature", feature);
        w.WriteString("layer", layer);
        w.WriteNumber("ctx_idx", position);
        w.WriteString("feature_type", type);
        w.WriteNumber("token_prob", tokenProbability);
        w.WriteBoolean("is_target_logit", targetLogit);
        w.WriteNumber("run_idx", 0);
        w.WriteNumber("reverse_ctx_idx", 0);
        w.WriteString("jsNodeId", jsNodeId);
        w.WriteString("clerp", clerp);
    }
}
