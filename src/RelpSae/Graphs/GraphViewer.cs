using System.Text.Json;
using RelpSae.Formats;

namespace RelpSae.Graphs;

/// <summary>
/// index.html for an attribution graph: one self-contained page (graph-viewer.html and graph-viewer.js, embedded
/// in the library, with the graph's JSON inlined) that draws the graph from file:// with no server or network.
/// The JSON follows circuit-tracer's graph schema (metadata with prompt_tokens, qParams, nodes, links); keys
/// circuit-tracer's own viewer ignores add to it: a node's <c>bias</c>, a link's <c>measured</c> effect, and a
/// feature node's <see cref="DashboardKey"/>.
/// </summary>
public static class GraphViewer
{
    public const string FileName = "index.html";

    /// <summary>
    /// The node key holding the feature's dashboard: one entry of features.json's <c>features</c> array as
    /// <see cref="Dashboards.DashboardFile"/> writes it (frac_nonzero, max_act, pos_str / pos_values,
    /// neg_str / neg_values, activations with tokens, values and max_value_token_index), shown when the node is clicked.
    /// </summary>
    public const string DashboardKey = "dashboard";

    /// <summary>Writes <see cref="FileName"/> into <paramref name="folder"/>, appearing whole; returns its path.</summary>
    public static string Write(string folder, string graphJson)
    {
        string path = Path.Combine(folder, FileName);
        Check(path, graphJson);
        AtomicFile.WriteText(path, Render(graphJson));
        return path;
    }

    /// <summary>The page with the viewer's code and the graph in place of the template's two markers.</summary>
    internal static string Render(string graphJson)
    {
        // "<" appears in JSON only inside strings, where \u003c reads the same: a token "</script>" cannot end the block.
        string data = graphJson.Replace("<", "\\u003c");
        return Resource("graph-viewer.html").Replace("/*VIEWER_JS*/", Resource("graph-viewer.js")).Replace("/*GRAPH_JSON*/", data);
    }

    private static string Resource(string name)
    {
        using var stream = typeof(GraphViewer).Assembly.GetManifestResourceStream(name)!;
        using var reader = new StreamReader(stream);
        return reader.ReadToEnd();
    }

    /// <summary>
    /// Refuses a graph the page could not draw, naming the key or node at fault: nodes need unique ids and a
    /// position among the prompt's tokens (the columns), links need two known nodes and a finite weight.
    /// </summary>
    private static void Check(string path, string graphJson)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(graphJson); }
        catch (JsonException e) { throw new RelpSaeException($"{path}: the graph is not valid JSON ({e.Message.Split('\n')[0]})"); }
        using (doc)
        {
            var root = doc.RootElement;
            JsonElement Array(JsonElement parent, string key, string where) =>
                parent.ValueKind == JsonValueKind.Object && parent.TryGetProperty(key, out var a) && a.ValueKind == JsonValueKind.Array ? a
                    : throw new RelpSaeException($"{path}: the graph has no \"{key}\" array{where}");
            int tokens = Array(root.ValueKind == JsonValueKind.Object && root.TryGetProperty("metadata", out var m) ? m : default, "prompt_tokens", " in its metadata").GetArrayLength();
            var ids = new HashSet<string>();
            int i = 0;
            foreach (var node in Array(root, "nodes", "").EnumerateArray())
            {
                string id = node.ValueKind == JsonValueKind.Object && node.TryGetProperty("node_id", out var n) && n.ValueKind == JsonValueKind.String ? n.GetString()!
                    : throw new RelpSaeException($"{path}: node {i} has no string \"node_id\"");
                if (!ids.Add(id)) throw new RelpSaeException($"{path}: node id '{id}' appears twice");
                if (!node.TryGetProperty("ctx_idx", out var c) || !c.TryGetInt32(out int pos) || pos < 0 || pos >= tokens)
                    throw new RelpSaeException($"{path}: node '{id}' has ctx_idx {(c.ValueKind == JsonValueKind.Undefined ? "missing" : c.GetRawText())}, not a position among the prompt's {tokens} tokens");
                i++;
            }
            i = 0;
            foreach (var link in Array(root, "links", "").EnumerateArray())
            {
                foreach (string end in (string[])["source", "target"])
                    if (link.ValueKind != JsonValueKind.Object || !link.TryGetProperty(end, out var e) || e.ValueKind != JsonValueKind.String || !ids.Contains(e.GetString()!))
                        throw new RelpSaeException($"{path}: link {i}'s {end} is not one of the graph's nodes");
                if (!link.TryGetProperty("weight", out var w) || w.ValueKind != JsonValueKind.Number || !w.TryGetDouble(out double weight) || !double.IsFinite(weight))
                    throw new RelpSaeException($"{path}: link {i} has no finite \"weight\"");
                i++;
            }
        }
    }
}
