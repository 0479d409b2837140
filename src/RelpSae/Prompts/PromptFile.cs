using System.Text.Json;
using RelpSae.Text;

namespace RelpSae.Prompts;

/// <summary>Reads prompt cases from JSONL: one object per line with "prompt" and optional "target", "foil", "corrupt".</summary>
public static class PromptFile
{
    public static IReadOnlyList<PromptCase> Read(string path)
    {
        if (!File.Exists(path)) throw new RelpSaeException($"prompt file not found: {path}");
        var cases = new List<PromptCase>();
        foreach (var (lineNumber, line) in StrictText.Lines(path))
        {
            if (string.IsNullOrWhiteSpace(line)) continue;
            cases.Add(Parse(line, $"{path}:{lineNumber}"));
        }
        if (cases.Count == 0) throw new RelpSaeException($"prompt file {path} holds no prompts");
        return cases;
    }

    private static PromptCase Parse(string line, string where)
    {
        JsonElement root;
        try { root = JsonDocument.Parse(line).RootElement; }
        catch (JsonException e) { throw new RelpSaeException($"{where}: not valid JSON ({e.Message.Split('\n')[0]})"); }
        if (root.ValueKind != JsonValueKind.Object) throw new RelpSaeException($"{where}: each line must be a JSON object");
        string? Field(string name, bool required)
        {
            if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null)
                return required ? throw new RelpSaeException($"{where}: missing field \"{name}\"") : null;
            if (v.ValueKind != JsonValueKind.String) throw new RelpSaeException($"{where}: field \"{name}\" must be a string");
            return StrictText.JsonString(v, $"{where}: field \"{name}\"");
        }
        var prompt = Field("prompt", required: true)!;
        if (prompt.Length == 0) throw new RelpSaeException($"{where}: empty prompt");
        return new PromptCase(prompt, Field("target", false), Field("foil", false), Field("corrupt", false));
    }
}
