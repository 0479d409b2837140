using System.Text.Json;
using System.Text.Json.Nodes;
using RelpSae.Formats;

namespace RelpSae.Reports;

/// <summary>
/// What an evaluate run's records depend on (model, SAE, hook, prompts, methods, metric, baseline, ...),
/// kept as evaluation_settings.json beside evaluations.jsonl so that `--resume` and `merge` can refuse
/// to mix records made differently. A flat name → value map: a new setting is one more entry.
/// </summary>
public static class EvaluationSettings
{
    public const string FileName = "evaluation_settings.json";

    public static void Write(string dir, JsonObject settings) =>
        EvaluationFiles.WriteAtomically(Path.Combine(dir, FileName), settings.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));

    /// <summary>The recorded settings, or null for a folder written before settings were recorded.</summary>
    public static JsonObject? Read(string dir)
    {
        var path = Path.Combine(dir, FileName);
        if (!File.Exists(path)) return null;
        try
        {
            return JsonNode.Parse(SideFile.ReadText(path)) as JsonObject
                ?? throw new RelpSaeException($"{path}: not a JSON object of settings");
        }
        catch (JsonException e)
        {
            throw new RelpSaeException($"{path}: not valid JSON ({e.Message.Split('\n')[0]})");
        }
    }

    /// <summary>The first setting whose value differs (a missing setting counts as null), or null when all agree.</summary>
    public static (string Name, JsonNode? A, JsonNode? B)? FirstDifference(JsonObject a, JsonObject b) =>
        a.Select(p => p.Key).Union(b.Select(p => p.Key)).Order(StringComparer.Ordinal)
            .Where(k => !JsonNode.DeepEquals(a[k], b[k]))
            .Select(k => ((string, JsonNode?, JsonNode?)?)(k, a[k], b[k])).FirstOrDefault();

    public static string Show(JsonNode? value) => value?.ToJsonString() ?? "(none)";
}
