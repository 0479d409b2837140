using System.Text.Json;
using RelpSae.Text;

namespace RelpSae.Prompts;

/// <summary>
/// Reads prompt cases from JSONL: one object per line with "prompt" and optional "target", "foil", "corrupt";
/// for a model without a tokenizer, "prompt_ids" (and "corrupt_ids") as arrays of token ids in place of
/// the texts, with target and foil as token ids (numbers or digit strings).
/// </summary>
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
            if (v.ValueKind == JsonValueKind.Number && name is "target" or "foil" && v.TryGetInt32(out int id) && id >= 0) return id.ToString();
            if (v.ValueKind != JsonValueKind.String) throw new RelpSaeException($"{where}: field \"{name}\" must be a string");
            var text = StrictText.JsonString(v, $"{where}: field \"{name}\"");
            if (name is "target" or "foil" && PromptCase.IsTokenId(text) && !int.TryParse(text, out _))
                throw new RelpSaeException($"{where}: field \"{name}\" is the token id {text}, larger than any vocabulary");
            return text;
        }
        int[]? Ids(string name)
        {
            if (!root.TryGetProperty(name, out var v) || v.ValueKind == JsonValueKind.Null) return null;
            if (v.ValueKind != JsonValueKind.Array || v.GetArrayLength() == 0 || v.EnumerateArray().Any(e => e.ValueKind != JsonValueKind.Number || !e.TryGetInt32(out int i) || i < 0))
                throw new RelpSaeException($"{where}: field \"{name}\" must be a non-empty array of token ids");
            return v.EnumerateArray().Select(e => e.GetInt32()).ToArray();
        }
        if (Ids("prompt_ids") is { } promptIds)
        {
            if (root.TryGetProperty("prompt", out _) || root.TryGetProperty("corrupt", out _))
                throw new RelpSaeException($"{where}: give the prompts as texts (\"prompt\", \"corrupt\") or as ids (\"prompt_ids\", \"corrupt_ids\"), not both");
            return PromptCase.FromIds(promptIds, Field("target", false), Field("foil", false), Ids("corrupt_ids"));
        }
        if (Ids("corrupt_ids") is not null) throw new RelpSaeException($"{where}: \"corrupt_ids\" needs \"prompt_ids\"");
        var prompt = Field("prompt", required: true)!;
        if (prompt.Length == 0) throw new RelpSaeException($"{where}: empty prompt");
        return new PromptCase(prompt, Field("target", false), Field("foil", false), Field("corrupt", false));
    }
}
