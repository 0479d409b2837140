using System.Text.Json;
using System.Text.Json.Nodes;
using RelpSae.Formats;

namespace RelpSae.Dashboards;

/// <summary>
/// features.json: every feature's dashboard in one file, under field names close to SAEDashboard's Neuronpedia
/// export (frac_nonzero, freq_hist_data_bar_heights, pos_str / pos_values, neg_str / neg_values, activations with
/// tokens and values). Streamed into place by <see cref="AtomicFile"/>, so a reader never sees half a file and an
/// interrupted run leaves any earlier file whole.
/// </summary>
public static class DashboardFile
{
    public const string FileName = "features.json";
    public const string Format = "relp-sae feature dashboards 1";

    /// <summary>How the logits are formed, written beside them.</summary>
    public const string LogitsMeaning =
        "unit-norm decoder direction through the final norm's scale (LayerNorm: centred too) and W_U, centred over the vocabulary: "
        + "SAEDashboard's logits on a TransformerLens model loaded with fold_ln and center_unembed";

    /// <summary>Writes <paramref name="dashboards"/> to <paramref name="path"/>; <paramref name="header"/> adds the caller's keys (model, SAE, data) at the top.</summary>
    public static void Write(string path, FeatureDashboards dashboards, Func<int, string> tokenText, JsonObject header)
    {
        AtomicFile.Write(path, stream =>
        {
            using var json = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = false });
            json.WriteStartObject();
            json.WriteString("format", Format);
            foreach (var (key, value) in header)
            {
                json.WritePropertyName(key);
                if (value is null) json.WriteNullValue(); else value.WriteTo(json);
            }
            var o = dashboards.Options;
            json.WriteNumber("d_sae", dashboards.DSae);
            json.WriteNumber("tokens", dashboards.Tokens);
            json.WriteNumber("contexts", dashboards.Contexts);
            json.WriteNumber("context_size", dashboards.ContextLength);
            json.WriteNumber("top", o.TopContexts);
            json.WriteNumber("window_before", o.WindowBefore);
            json.WriteNumber("window_after", o.WindowAfter);
            json.WriteString("logits", LogitsMeaning);
            json.WriteString("freq_hist_bins", "positive activations in log-spaced bins, 10 a decade: bin 0 below freq_hist_edges[0], bin i in [edges[i-1], edges[i]), the last at or above the last edge");
            json.WriteStartArray("freq_hist_edges");
            foreach (var edge in FeatureDashboards.HistogramEdges) json.WriteNumberValue(edge);
            json.WriteEndArray();
            json.WriteStartArray("features");
            for (int f = 0; f < dashboards.DSae; f++) WriteFeature(json, dashboards.Feature(f), tokenText);
            json.WriteEndArray();
            json.WriteEndObject();
        });
    }

    private static void WriteFeature(Utf8JsonWriter json, FeatureDashboard d, Func<int, string> tokenText)
    {
        json.WriteStartObject();
        json.WriteNumber("feature_index", d.Feature);
        json.WriteNumber("frac_nonzero", d.Density);
        json.WriteNumber("max_act", d.TopContexts.Count > 0 ? d.TopContexts[0].Value : 0f);
        json.WriteStartArray("freq_hist_data_bar_heights");
        foreach (long count in d.HistogramCounts) json.WriteNumberValue(count);
        json.WriteEndArray();
        WriteTokens(json, "pos", d.TopLogits, tokenText);
        WriteTokens(json, "neg", d.BottomLogits, tokenText);
        json.WriteStartArray("activations");
        foreach (var c in d.TopContexts)
        {
            json.WriteStartObject();
            json.WriteNumber("context_index", c.Context);
            json.WriteNumber("position", c.Position);
            json.WriteNumber("max_value", c.Value);
            json.WriteNumber("max_value_token_index", c.PeakIndex);
            json.WriteStartArray("tokens");
            foreach (int id in c.TokenIds) json.WriteStringValue(tokenText(id));
            json.WriteEndArray();
            json.WriteStartArray("token_ids");
            foreach (int id in c.TokenIds) json.WriteNumberValue(id);
            json.WriteEndArray();
            json.WriteStartArray("values");
            foreach (float v in c.Values) json.WriteNumberValue(v);
            json.WriteEndArray();
            json.WriteEndObject();
        }
        json.WriteEndArray();
        json.WriteEndObject();
    }

    private static void WriteTokens(Utf8JsonWriter json, string prefix, OutputToken[] tokens, Func<int, string> tokenText)
    {
        json.WriteStartArray(prefix + "_str");
        foreach (var t in tokens) json.WriteStringValue(tokenText(t.Id));
        json.WriteEndArray();
        json.WriteStartArray(prefix + "_token_ids");
        foreach (var t in tokens) json.WriteNumberValue(t.Id);
        json.WriteEndArray();
        json.WriteStartArray(prefix + "_values");
        foreach (var t in tokens) json.WriteNumberValue(t.Logit);
        json.WriteEndArray();
    }

    /// <summary>
    /// Room for one feature's entry (20 windows of 14 tokens with their text, ids and values, a histogram, 20 logits):
    /// the cap on the file grows with the SAE.
    /// </summary>
    private const long MaxBytesPerFeature = 64 << 10;

    /// <summary>
    /// Each feature's best context from the dashboard file in <paramref name="saeDir"/> as one short line, the peak
    /// token marked «so», or null when the folder has no dashboard file.
    /// </summary>
    public static IReadOnlyList<string>? Snippets(string saeDir, int dSae, int before = 6, int after = 2) =>
        EachFeature(saeDir, dSae, f => f.GetProperty("activations").EnumerateArray().FirstOrDefault() is { ValueKind: JsonValueKind.Object } best
            ? Snippet(best, before, after) : "");

    /// <summary>Each feature's dashboard as JSON text (one entry of the file's features array), from the file beside the dictionary; null when there is none.</summary>
    public static IReadOnlyList<string>? Entries(string saeDir, int dSae) => EachFeature(saeDir, dSae, f => f.GetRawText());

    /// <summary>What <paramref name="read"/> takes from each feature's entry of the file beside the dictionary, checked to describe its d_sae features; null when there is no file.</summary>
    private static IReadOnlyList<T>? EachFeature<T>(string saeDir, int dSae, Func<JsonElement, T> read)
    {
        var path = Path.Combine(saeDir, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            using var doc = JsonDocument.Parse(SideFile.ReadBytes(path, Math.Max(SideFile.MaxBytes, dSae * MaxBytesPerFeature)));
            var features = doc.RootElement.GetProperty("features");
            if (features.GetArrayLength() != dSae)
                throw new RelpSaeException($"{path} describes {features.GetArrayLength()} features but the SAE has {dSae}");
            return [.. features.EnumerateArray().Select(read)];
        }
        catch (Exception e) when (e is JsonException or KeyNotFoundException or InvalidOperationException or IndexOutOfRangeException)
        {
            throw new RelpSaeException($"{path} is not a valid feature dashboard file ({e.Message.Split('\n')[0]})");
        }
    }

    private static string Snippet(JsonElement best, int before, int after)
    {
        var tokens = best.GetProperty("tokens").EnumerateArray().Select(t => t.GetString()!).ToArray();
        int peak = best.GetProperty("max_value_token_index").GetInt32();
        if (peak < 0 || peak >= tokens.Length) throw new IndexOutOfRangeException($"max_value_token_index {peak} is outside its {tokens.Length} tokens");
        static string Flat(string text) => text.Replace("\r", "").Replace("\n", "↵");
        var text = string.Concat(tokens[Math.Max(0, peak - before)..peak].Select(Flat)) + "«" + Flat(tokens[peak]) + "»"
            + string.Concat(tokens[(peak + 1)..Math.Min(tokens.Length, peak + 1 + after)].Select(Flat));
        return $"{text} {best.GetProperty("max_value").GetDouble().ToString("F1", System.Globalization.CultureInfo.InvariantCulture)}";
    }
}
