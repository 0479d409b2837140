using System.Text.Json;
using RelpSae.Formats;

namespace RelpSae.Text;

/// <summary>
/// The three pieces a byte-level BPE tokenizer is made of, read from either GPT-2's original pair of
/// files (vocab.json + merges.txt) or a Hugging Face tokenizer.json.
/// </summary>
internal sealed record BpeFiles(
    IReadOnlyDictionary<string, int> Vocab,
    IReadOnlyList<string> Merges,
    IReadOnlyDictionary<string, int> SpecialTokens)
{
    public const string EndOfText = "<|endoftext|>";

    /// <summary>vocab.json is a map token → id; merges.txt one "a b" per line after an optional "#version" header.</summary>
    public static BpeFiles FromVocabAndMerges(string vocabPath, string mergesPath)
    {
        var vocab = Parse(vocabPath, root => ReadVocab(root, vocabPath));
        var merges = new List<string>();
        SideFile.CheckedLength(mergesPath);   // read by lines, for their numbers in errors, once known to be a file
        foreach (var (lineNo, line) in StrictText.Lines(mergesPath))
        {
            if (line.Length == 0 || (lineNo == 1 && line.StartsWith("#version"))) continue;
            merges.Add(CheckMerge(line, $"{mergesPath} line {lineNo}"));
        }
        // GPT-2's vocab.json holds <|endoftext|> as an ordinary entry; HF marks it special, and so do we.
        var special = vocab.TryGetValue(EndOfText, out var eot)
            ? new Dictionary<string, int> { [EndOfText] = eot }
            : new Dictionary<string, int>();
        return new BpeFiles(vocab, merges, special);
    }

    /// <summary>tokenizer.json: model.vocab, model.merges (strings "a b" or pairs ["a","b"]) and added_tokens.</summary>
    public static BpeFiles FromTokenizerJson(string path) => Parse(path, root =>
    {
        if (root.ValueKind != JsonValueKind.Object)
            throw new RelpSaeException($"{path}: not a JSON object (not a Hugging Face tokenizer.json)");
        if (!root.TryGetProperty("model", out var model) || model.ValueKind != JsonValueKind.Object)
            throw new RelpSaeException($"{path}: no \"model\" object (not a Hugging Face tokenizer.json)");
        if (model.TryGetProperty("type", out var type) && !(type.ValueKind == JsonValueKind.String && type.GetString() == "BPE"))
            throw new RelpSaeException($"{path}: model type is {type.GetRawText()}, only \"BPE\" is supported");
        RefuseUnsupported(model, path);
        CheckGpt2Pipeline(root, path);
        if (!model.TryGetProperty("vocab", out var vocabJson))
            throw new RelpSaeException($"{path}: model has no \"vocab\"");
        var vocab = ReadVocab(vocabJson, path);
        if (!model.TryGetProperty("merges", out var mergesJson) || mergesJson.ValueKind != JsonValueKind.Array)
            throw new RelpSaeException($"{path}: model has no \"merges\" array");
        var merges = new List<string>();
        foreach (var m in mergesJson.EnumerateArray())
            merges.Add(m.ValueKind switch
            {
                JsonValueKind.String => CheckMerge(m.GetString()!, $"{path} merge {merges.Count}"),
                JsonValueKind.Array when m.GetArrayLength() == 2 && m[0].ValueKind == JsonValueKind.String && m[1].ValueKind == JsonValueKind.String
                    => $"{m[0].GetString()} {m[1].GetString()}",
                _ => throw new RelpSaeException($"{path}: merge {merges.Count} is neither \"a b\" nor [\"a\", \"b\"]"),
            });
        var special = new Dictionary<string, int>();
        if (root.TryGetProperty("added_tokens", out var added) && added.ValueKind == JsonValueKind.Array)
            foreach (var t in added.EnumerateArray())
            {
                if (t.ValueKind != JsonValueKind.Object || !t.TryGetProperty("content", out var content) || content.ValueKind != JsonValueKind.String
                    || !t.TryGetProperty("id", out var id) || id.ValueKind != JsonValueKind.Number || !id.TryGetInt32(out var idValue) || idValue < 0)
                    throw new RelpSaeException($"{path}: added_tokens entry {special.Count} lacks a string \"content\" or a non-negative integer \"id\"");
                special[content.GetString()!] = idValue;
                vocab[content.GetString()!] = idValue;
            }
        return new BpeFiles(vocab, merges, special);
    });

    /// <summary>BPE options that change how text is tokenized; we implement none of them, so they must be off.</summary>
    static void RefuseUnsupported(JsonElement model, string path)
    {
        foreach (var option in new[] { "dropout", "unk_token", "continuing_subword_prefix", "end_of_word_suffix" })
            if (model.TryGetProperty(option, out var value) && value.ValueKind != JsonValueKind.Null)
                throw new RelpSaeException($"{path}: model.{option} is {value.GetRawText()}; GPT-2's byte-level BPE has none, and it is not supported");
    }

    /// <summary>Only GPT-2's own pipeline is implemented: refuse others rather than tokenize them differently.</summary>
    static void CheckGpt2Pipeline(JsonElement root, string path)
    {
        if (root.TryGetProperty("normalizer", out var normalizer) && normalizer.ValueKind != JsonValueKind.Null)
            throw new RelpSaeException($"{path}: has a normalizer; only GPT-2's byte-level BPE (no normalizer) is supported");
        if (!root.TryGetProperty("pre_tokenizer", out var pre) || pre.ValueKind == JsonValueKind.Null) return;
        if (pre.ValueKind != JsonValueKind.Object)
            throw new RelpSaeException($"{path}: pre_tokenizer is not an object");
        var byteLevel = pre.ValueKind == JsonValueKind.Object && pre.TryGetProperty("type", out var type)
            && type.ValueKind == JsonValueKind.String && type.GetString() == "ByteLevel";
        var prefixSpace = pre.TryGetProperty("add_prefix_space", out var p) && p.ValueKind == JsonValueKind.True;
        var noRegex = pre.TryGetProperty("use_regex", out var r) && r.ValueKind == JsonValueKind.False;
        if (!byteLevel || prefixSpace || noRegex)
            throw new RelpSaeException($"{path}: pre_tokenizer is not GPT-2's (ByteLevel, add_prefix_space false, use_regex true)");
    }

    static T Parse<T>(string path, Func<JsonElement, T> read)
    {
        var text = SideFile.ReadText(path);
        try
        {
            using var doc = JsonDocument.Parse(text);
            return read(doc.RootElement);
        }
        catch (JsonException e)
        {
            throw new RelpSaeException($"{path}: not valid JSON ({e.Message.Split('\n')[0]})", e);
        }
        catch (InvalidOperationException e)
        {
            // System.Text.Json's way of saying a string escapes a lone surrogate (or a value has the wrong kind).
            throw new RelpSaeException($"{path}: holds a value that cannot be read as text ({e.Message.Split('\n')[0]})", e);
        }
    }

    static Dictionary<string, int> ReadVocab(JsonElement json, string path)
    {
        if (json.ValueKind != JsonValueKind.Object)
            throw new RelpSaeException($"{path}: the vocabulary is not a JSON object of token → id");
        var vocab = new Dictionary<string, int>();
        foreach (var p in json.EnumerateObject())
        {
            if (p.Value.ValueKind != JsonValueKind.Number || !p.Value.TryGetInt32(out var id) || id < 0)
                throw new RelpSaeException($"{path}: token {StrictText.Excerpt(p.Name)} has id {StrictText.Cut(p.Value.GetRawText())}, not a non-negative integer");
            vocab[p.Name] = id;
        }
        return vocab;
    }

    static string CheckMerge(string merge, string where) =>
        merge.Split(' ').Length == 2 ? merge : throw new RelpSaeException($"{where}: merge {StrictText.Excerpt(merge)} is not two tokens separated by one space");
}
