using System.Text.Json;
using System.Text.Unicode;

namespace RelpSae.Formats;

/// <summary>One tensor's entry in a safetensors header: offsets are relative to the data section.</summary>
public sealed record SafetensorsEntry(string Name, DType DType, int[] Shape, long Begin, long End)
{
    public long Count => Shape.Aggregate(1L, (n, d) => n * d);
}

/// <summary>
/// Parses and validates the JSON header of a safetensors file the way the reference library does:
/// every tensor's bytes match its shape and dtype, and the tensors tile the data section exactly
/// (no gaps, no overlaps, nothing past the end).
/// </summary>
internal static class SafetensorsHeader
{
    /// <summary>The reference library refuses larger headers; so do we, before allocating.</summary>
    public const long MaxLength = 100_000_000;

    public static (Dictionary<string, string> Metadata, List<SafetensorsEntry> Entries) Parse(
        ReadOnlySpan<byte> json, long dataLength, string path)
    {
        // JsonDocument only notices bad UTF-8 when a string is read, and then not as a JsonException.
        if (!Utf8.IsValid(json))
            throw new RelpSaeException($"{path}: the safetensors header is not valid UTF-8");
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(json.ToArray(), new JsonDocumentOptions { MaxDepth = 8 });
        }
        catch (JsonException e)
        {
            throw new RelpSaeException($"{path}: the safetensors header is not valid JSON ({e.Message.Split('\n')[0]})");
        }
        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Object)
                throw new RelpSaeException($"{path}: the safetensors header is not a JSON object");
            var metadata = new Dictionary<string, string>();
            var entries = new List<SafetensorsEntry>();
            var seen = new HashSet<string>(StringComparer.Ordinal);
            foreach (var property in doc.RootElement.EnumerateObject())
            {
                if (!seen.Add(property.Name))
                    throw new RelpSaeException($"{path}: tensor '{property.Name}' appears twice in the header");
                if (property.Name == "__metadata__")
                    ReadMetadata(property.Value, metadata, path);
                else
                    entries.Add(ReadEntry(property.Name, property.Value, path));
            }
            CheckTiling(entries, dataLength, path);
            return (metadata, entries);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
            throw new RelpSaeException($"{path}: __metadata__ is not a JSON object");
        foreach (var item in value.EnumerateObject())
        {
            if (item.Value.ValueKind != JsonValueKind.String)
                throw new RelpSaeException($"{path}: __metadata__ value '{item.Name}' is not a string");
            if (!metadata.TryAdd(item.Name, item.Value.GetString()!))
                throw new RelpSaeException($"{path}: __metadata__ key '{item.Name}' appears twice");
        }
    }

    private static SafetensorsEntry ReadEntry(string name, JsonElement value, string path)
    {
        string where = $"{path}: tensor '{name}'";
        if (value.ValueKind != JsonValueKind.Object)
            throw new RelpSaeException($"{where} is not described by a JSON object");
        string dtypeName = value.TryGetProperty("dtype", out var d) && d.ValueKind == JsonValueKind.String
            ? d.GetString()! : throw new RelpSaeException($"{where} has no dtype string");
        var dtype = DTypes.Parse(dtypeName) ?? throw new RelpSaeException($"{where} has unknown dtype '{dtypeName}'");
        var shape = ReadIntegers(value, "shape", where).Select(n => n <= int.MaxValue
            ? (int)n : throw new RelpSaeException($"{where} has dimension {n}, too large")).ToArray();
        var offsets = ReadIntegers(value, "data_offsets", where);
        if (offsets.Length != 2 || offsets[0] > offsets[1])
            throw new RelpSaeException($"{where} has data_offsets [{string.Join(", ", offsets)}], not [begin, end] with begin <= end");
        long count = 1;
        foreach (int dim in shape)
            count = count * dim > Array.MaxLength ? throw new RelpSaeException($"{where} has shape [{string.Join(", ", shape)}], too many elements") : count * dim;
        if (count * dtype.Size() != offsets[1] - offsets[0])
            throw new RelpSaeException($"{where}: shape [{string.Join(", ", shape)}] of {dtype} needs {count * dtype.Size()} bytes but data_offsets give {offsets[1] - offsets[0]}");
        return new SafetensorsEntry(name, dtype, shape, offsets[0], offsets[1]);
    }

    private static long[] ReadIntegers(JsonElement value, string key, string where)
    {
        if (!value.TryGetProperty(key, out var array) || array.ValueKind != JsonValueKind.Array)
            throw new RelpSaeException($"{where} has no {key} array");
        return array.EnumerateArray().Select(e => e.ValueKind == JsonValueKind.Number && e.TryGetInt64(out long n) && n >= 0
            ? n : throw new RelpSaeException($"{where} has {key} element {e.GetRawText()}, not a non-negative integer")).ToArray();
    }

    private static void CheckTiling(List<SafetensorsEntry> entries, long dataLength, string path)
    {
        entries.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
        long expected = 0;
        foreach (var e in entries)
        {
            if (e.End > dataLength)
                throw new RelpSaeException($"{path}: tensor '{e.Name}' data_offsets [{e.Begin}, {e.End}] run past the data section ({dataLength} bytes)");
            if (e.Begin < expected)
                throw new RelpSaeException($"{path}: tensor '{e.Name}' data_offsets [{e.Begin}, {e.End}] overlap the previous tensor (ends at {expected})");
            if (e.Begin > expected)
                throw new RelpSaeException($"{path}: tensor '{e.Name}' data_offsets [{e.Begin}, {e.End}] leave a gap after byte {expected}");
            expected = e.End;
        }
        if (expected != dataLength)
            throw new RelpSaeException($"{path}: the tensors cover {expected} bytes but the data section holds {dataLength}");
    }
}
