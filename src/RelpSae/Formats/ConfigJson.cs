using System.Buffers;
using System.Text.Json;

namespace RelpSae.Formats;

/// <summary>
/// A model's config.json read as typed values, each missing or malformed key a one-line error naming
/// the file and the key (a nested object's keys by their path, as rope_scaling.factor).
/// </summary>
public sealed class ConfigJson
{
    private readonly JsonElement root;
    private readonly string prefix;   // "" at the top, "rope_scaling." inside that object

    public string Path { get; }

    private ConfigJson(string path, JsonElement root, string prefix = "")
    {
        Path = path;
        this.root = root;
        this.prefix = prefix;
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
            && a[0].ValueKind == JsonValueKind.String ? Text(a[0], "architectures") : "";

    /// <summary>The object under <paramref name="key"/>, read as the file is, its keys named <paramref name="key"/>.key in errors.</summary>
    public ConfigJson Section(string key) =>
        Has(key) ? root.GetProperty(key) is { ValueKind: JsonValueKind.Object } v ? new ConfigJson(Path, v, prefix + key + ".") : throw Bad(key, "an object")
            : throw Missing(key);

    /// <summary>
    /// This object with each key of <paramref name="defaults"/> (a JSON object) that it does not write added: where a
    /// model's defaults differ from a reader's fallbacks (a multimodal config's text_config writes only what differs).
    /// </summary>
    public ConfigJson WithDefaults(string defaults)
    {
        using var fallback = JsonDocument.Parse(defaults);
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var p in root.EnumerateObject()) p.WriteTo(writer);
            foreach (var p in fallback.RootElement.EnumerateObject())
                if (!Written(p.Name)) p.WriteTo(writer);
            writer.WriteEndObject();
        }
        using var merged = JsonDocument.Parse(buffer.WrittenMemory);
        return new ConfigJson(Path, merged.RootElement.Clone(), prefix);
    }

    /// <summary>
    /// This object with <paramref name="keys"/> written in place of what it writes under those names (a null value
    /// removes the key): how a reader maps a newer spelling of settings onto the one it reads.
    /// </summary>
    internal ConfigJson WithKeys(IReadOnlyDictionary<string, JsonElement?> keys)
    {
        var buffer = new ArrayBufferWriter<byte>();
        using (var writer = new Utf8JsonWriter(buffer))
        {
            writer.WriteStartObject();
            foreach (var p in root.EnumerateObject())
                if (!keys.ContainsKey(p.Name)) p.WriteTo(writer);
            foreach (var (name, value) in keys)
                if (value is { } v)
                {
                    writer.WritePropertyName(name);
                    v.WriteTo(writer);
                }
            writer.WriteEndObject();
        }
        using var merged = JsonDocument.Parse(buffer.WrittenMemory);
        return new ConfigJson(Path, merged.RootElement.Clone(), prefix);
    }

    /// <summary>The raw value of <paramref name="key"/> (which must be written).</summary>
    internal JsonElement Raw(string key) => root.TryGetProperty(key, out var v) ? v : throw Missing(key);

    /// <summary>This object as a raw value.</summary>
    internal JsonElement Self => root;

    /// <summary>The names this object writes.</summary>
    internal IEnumerable<string> Keys => root.EnumerateObject().Select(p => p.Name);

    /// <summary>An array of strings.</summary>
    public string[] Strings(string key)
    {
        if (!Has(key)) throw Missing(key);
        var v = root.GetProperty(key);
        if (v.ValueKind != JsonValueKind.Array || v.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.String)) throw Bad(key, "an array of strings");
        return [.. v.EnumerateArray().Select(e => Text(e, key))];
    }

    public bool Has(string key) => root.TryGetProperty(key, out var v) && v.ValueKind != JsonValueKind.Null;

    /// <summary>Whether the key is written at all, null included (where null and absent mean different things).</summary>
    public bool Written(string key) => root.TryGetProperty(key, out _);

    public string String(string key, string? fallback = null) =>
        Has(key) ? root.GetProperty(key) is { ValueKind: JsonValueKind.String } v ? Text(v, key) : throw Bad(key, "a string")
            : fallback ?? throw Missing(key);

    /// <summary>A string value; the parser checks only the JSON's structure, so bytes that are not UTF-8 are found here.</summary>
    private string Text(JsonElement v, string key)
    {
        try { return v.GetString()!; }
        catch (InvalidOperationException) { throw Error(key, "is not valid UTF-8"); }
    }

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

    /// <summary>
    /// A positive number the model computes with in float32 (an epsilon, a rotary base, a soft-cap): finite there and
    /// not flushed to zero or a subnormal, at least <paramref name="min"/> and below <paramref name="below"/>. Returned as
    /// written; a value float32 cannot hold would turn every result into NaN.
    /// </summary>
    public double PositiveFloat32(string key, double? fallback = null, double min = 0, double below = double.PositiveInfinity)
    {
        double v = Number(key, fallback);
        float f = (float)v;
        if (float.IsNormal(f) && f > 0 && v >= min && v < below) return v;
        string range = (min > 0 ? $" of at least {min}" : "") + (double.IsFinite(below) ? $" below {below}" : "");
        throw Bad(key, $"a positive number float32 holds{range} (normal floats are 1.2e-38 to 3.4e38)");
    }

    /// <summary>A normalisation's epsilon, in (0, 1) and a normal float32 (1e-300 would become 0 there, and 0/0 NaN).</summary>
    public float Epsilon(string key, double? fallback = null) => (float)PositiveFloat32(key, fallback, below: 1);

    /// <summary>
    /// A rotary base θ: at least 1, so that every frequency θ^(−2i/d) is at most one radian a position and the angles
    /// stay finite in float32.
    /// </summary>
    public double RotaryBase(string key, double fallback) => PositiveFloat32(key, fallback, min: 1);

    /// <summary>
    /// Refuses a weight matrix [<paramref name="rows"/>, <paramref name="cols"/>] of more elements than one array holds,
    /// naming <paramref name="key"/>, the setting that sized it. Callers form the dimensions in 64 bits, so no product wraps.
    /// </summary>
    public void CheckFits(string key, string matrix, long rows, long cols)
    {
        if (rows > Array.MaxLength / cols)
            throw Error(key, $"{(root.TryGetProperty(key, out var v) ? v.GetRawText() : "(its default)")} makes {matrix} [{rows}, {cols}], more elements than one array can hold");
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

    public RelpSaeException Error(string key, string problem) => new($"{Path}: {prefix}{key} {problem}");

    private RelpSaeException Missing(string key) => Error(key, "is missing");

    private RelpSaeException Bad(string key, string expected) => Error(key, $"is {root.GetProperty(key).GetRawText()}, not {expected}");
}
