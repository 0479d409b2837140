using System.Text.Json;

namespace RelpSae.Formats;

/// <summary>
/// A model's config.json read as typed values, each missing or malformed key a one-line error naming
/// the file and the key.
/// </summary>
public sealed class ConfigJson
{
    private readonly JsonElement root;

    public string Path { get; }

    private ConfigJson(string path, JsonElement root)
    {
        Path = path;
        this.root = root;
    }

    public static ConfigJson Read(string path)
    {
        var bytes = SideFile.ReadBytes(path);
        try
        {
            using var doc = JsonDocument.Parse(bytes);
            if (doc.RootElement.ValueKind != JsonValueKind.Object) throw new RelpSaeException($"{path}: not a JSON object");
            return new ConfigJson(path, doc.RootElement.Clone());
        }
        catch (JsonException e)
        {
            throw new RelpSaeException($"{path}: not valid JSON ({e.Message.Split('\n')[0]})");
        }
    }

    /// <summary>architectures[0], or "" when absent.</summary>
    public string Architecture =>
        root.TryGetProperty("architectures", out var a) && a.ValueKind == JsonValueKind.Array && a.GetArrayLength() > 0
            && a[0].ValueKind == JsonValueKind.String ? a[0].GetString()! : "";

    public bool Has(string key) => root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;

    /// <summary>Whether the key is written at all, null included (where null and absent mean different things).</summary>
    public bool Written(string key) => root.TryGetProperty(key, out _);

    public string String(string key, string? fallback = null) =>
        Has(key) ? root.GetProperty(key) is { ValueKind: JsonValueKind.String } v ? v.GetString()! : throw Bad(key, "a string")
            : fallback ?? throw Missing(key);

    public int Positive(string key, int? fallback = null)
    {
        if (!Has(key)) return fallback ?? throw Missing(key);
        var v = root.GetProperty(key);
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) && n > 0 ? n : throw Bad(key, "a positive integer");
    }

    public double Number(string key, double? fallback = null)
    {
        if (!Has(key)) return fallback ?? throw Missing(key);
        var v = root.GetProperty(key);
        return v.ValueKind == JsonValueKind.Number && double.IsFinite(v.GetDouble()) ? v.GetDouble() : throw Bad(key, "a finite number");
    }

    public bool Bool(string key, bool fallback)
    {
        if (!Has(key)) return fallback;
        var v = root.GetProperty(key);
        return v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : throw Bad(key, "true or false");
    }

    /// <summary>A token id (the first, when the config lists several), or <paramref name="fallback"/>.</summary>
    public int TokenId(string key, int fallback)
    {
        if (!Has(key)) return fallback;
        var v = root.GetProperty(key);
        if (v.ValueKind == JsonValueKind.Array && v.GetArrayLength() > 0) v = v[0];
        return v.ValueKind == JsonValueKind.Number && v.TryGetInt32(out int n) && n >= 0 ? n : throw Bad(key, "a token id");
    }

    public RelpSaeException Error(string key, string problem) => new($"{Path}: {key} {problem}");

    private RelpSaeException Missing(string key) => new($"{Path}: {key} is missing");

    private RelpSaeException Bad(string key, string expected) => new($"{Path}: {key} is {root.GetProperty(key).GetRawText()}, not {expected}");
}
