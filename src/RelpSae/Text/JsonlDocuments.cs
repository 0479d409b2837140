using System.Text.Json;

namespace RelpSae.Text;

/// <summary>A JSON-lines data set: one object per line with the text in a string field; blank lines are skipped.</summary>
public static class JsonlDocuments
{
    public static IEnumerable<string> Read(string path, string textField = "text")
    {
        foreach (var (lineNo, line) in StrictText.Lines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            yield return Parse(line, textField, path, lineNo);
        }
    }

    /// <summary>Each line's <paramref name="field"/> as token ids (a non-empty array of non-negative integers).</summary>
    public static IEnumerable<int[]> ReadIds(string path, string field)
    {
        foreach (var (lineNo, line) in StrictText.Lines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            using var doc = Object(line, path, lineNo);
            if (!doc.RootElement.TryGetProperty(field, out var ids) || ids.ValueKind != JsonValueKind.Array || ids.GetArrayLength() == 0
                || ids.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int id) || id < 0))
                throw new RelpSaeException($"{path} line {lineNo}: field \"{field}\" must be a non-empty array of token ids");
            yield return ids.EnumerateArray().Select(e => e.GetInt32()).ToArray();
        }
    }

    static JsonDocument Object(string line, string path, int lineNo)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(line); }
        catch (JsonException e) { throw new RelpSaeException($"{path} line {lineNo}: not valid JSON ({e.Message})", e); }
        if (doc.RootElement.ValueKind == JsonValueKind.Object) return doc;
        doc.Dispose();
        throw new RelpSaeException($"{path} line {lineNo}: not a JSON object");
    }

    static string Parse(string line, string textField, string path, int lineNo)
    {
        using (var doc = Object(line, path, lineNo))
        {
            if (!doc.RootElement.TryGetProperty(textField, out var text) || text.ValueKind != JsonValueKind.String)
                throw new RelpSaeException($"{path} line {lineNo}: no string field \"{textField}\"");
            return StrictText.JsonString(text, $"{path} line {lineNo}: field \"{textField}\"");
        }
    }
}
