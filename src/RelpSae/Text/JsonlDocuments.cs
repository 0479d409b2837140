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

    static string Parse(string line, string textField, string path, int lineNo)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(line); }
        catch (JsonException e) { throw new RelpSaeException($"{path} line {lineNo}: not valid JSON ({e.Message})", e); }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new RelpSaeException($"{path} line {lineNo}: not a JSON object");
            if (!doc.RootElement.TryGetProperty(textField, out var text) || text.ValueKind != JsonValueKind.String)
                throw new RelpSaeException($"{path} line {lineNo}: no string field \"{textField}\"");
            return StrictText.JsonString(text, $"{path} line {lineNo}: field \"{textField}\"");
        }
    }
}
