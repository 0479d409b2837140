using System.Text.Json;

namespace RelpSae.Text;

/// <summary>
/// A JSON-lines data set: one object per line with the text in a string field; blank lines are skipped.
/// A line longer than a segment streams its text in pieces (<see cref="LongJsonLine"/>), so a document
/// of hundreds of MiB is read with bounded memory.
/// </summary>
public static class JsonlDocuments
{
    public static IEnumerable<Piece<string>> Read(string path, string textField = "text")
    {
        var cutter = new PieceCutter(path);
        LongJsonLine? longLine = null;
        foreach (var (lineNo, text, endsLine) in StrictText.Segments(path, StrictText.SegmentBytes))
        {
            if (longLine is null && endsLine)
            {
                if (!string.IsNullOrWhiteSpace(text)) yield return new(Parse(text, textField, path, lineNo));
                continue;
            }
            longLine ??= new LongJsonLine(path, lineNo, textField, cutter);
            foreach (var piece in longLine.Read(text)) yield return piece;
            if (!endsLine) continue;
            var (skeleton, streamed) = longLine.End();
            longLine = null;
            // The skeleton is the whole line but the streamed value: parsing it checks the line as a short one is checked.
            var value = Parse(skeleton, textField, path, lineNo);
            if (!streamed)
                foreach (var piece in cutter.Append(value, lineNo)) yield return piece;
            yield return cutter.End();
        }
    }

    /// <summary>Each line's <paramref name="field"/> as token ids (a non-empty array of non-negative integers); a long line's in pieces.</summary>
    public static IEnumerable<Piece<int[]>> ReadIds(string path, string field)
    {
        LongJsonLine? longLine = null;
        bool started = false;
        foreach (var (lineNo, text, endsLine) in StrictText.Segments(path, StrictText.SegmentBytes))
        {
            if (longLine is null && endsLine)
            {
                if (!string.IsNullOrWhiteSpace(text)) yield return new(Ids(text, field, path, lineNo));
                continue;
            }
            longLine ??= new LongJsonLine(path, lineNo, field, cutter: null);
            longLine.Read(text);
            if (longLine.TakeIds() is { Length: > 0 } ids) { yield return new(ids, started); started = true; }
            if (!endsLine) continue;
            var (skeleton, streamed) = longLine.End();
            longLine = null;
            var rest = Ids(skeleton, field, path, lineNo);   // checks the line; the ids themselves unless they streamed
            if (!streamed) yield return new(rest);
            started = false;
        }
    }

    static int[] Ids(string line, string field, string path, int lineNo)
    {
        using var doc = Object(line, path, lineNo);
        if (!doc.RootElement.TryGetProperty(field, out var ids) || ids.ValueKind != JsonValueKind.Array || ids.GetArrayLength() == 0
            || ids.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int id) || id < 0))
            throw new RelpSaeException($"{path} line {lineNo}: field \"{field}\" must be a non-empty array of token ids");
        return ids.EnumerateArray().Select(e => e.GetInt32()).ToArray();
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
