using System.Text.Json;

namespace RelpSae.Reports;

/// <summary>JSON has no NaN: undefined statistics are written as null.</summary>
internal static class JsonNumbers
{
    public static void WriteNumberOrNull(this Utf8JsonWriter w, string name, double value)
    {
        if (double.IsFinite(value)) w.WriteNumber(name, value);
        else w.WriteNull(name);
    }

    public static double[] ReadDoubles(this JsonElement array) => [.. array.EnumerateArray().Select(x => x.GetDouble())];

    public static double ReadNumberOrNaN(this JsonElement e) =>
        e.ValueKind == JsonValueKind.Number ? e.GetDouble() : double.NaN;
}
