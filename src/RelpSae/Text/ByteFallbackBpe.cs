using System.Text;
using System.Text.Json;
using System.Text.RegularExpressions;
using RelpSae.Formats;
using Microsoft.ML.Tokenizers;

namespace RelpSae.Text;

/// <summary>
/// A Hugging Face tokenizer.json of the SentencePiece kind (Llama 2, Mistral, TinyLlama): BPE over text
/// whose spaces are "▁" with one "▁" in front, and byte fallback — a character outside the vocabulary
/// becomes its UTF-8 bytes as &lt;0xXX&gt; tokens. Microsoft.ML.Tokenizers runs the BPE merges; the
/// normalisation and the byte fallback, which it does not read from this format, are done here.
/// </summary>
public sealed partial class ByteFallbackBpe : ITextTokenizer
{
    [GeneratedRegex(@"[\s\S]+")]
    private static partial Regex WholeText();

    private const char Space = '▁';

    private readonly BpeTokenizer bpe;
    private readonly Dictionary<string, int> vocab;
    private readonly string?[] pieces;
    private readonly bool splitWords;

    private ByteFallbackBpe(Dictionary<string, int> vocab, List<string> merges, bool splitWords, string source)
    {
        this.vocab = vocab;
        this.splitWords = splitWords;
        Source = source;
        pieces = new string?[vocab.Values.Max() + 1];
        foreach (var (piece, id) in vocab) pieces[id] = piece;
        for (int b = 0; b < 256; b++)
            if (!vocab.ContainsKey($"<0x{b:X2}>")) throw new RelpSaeException($"{source}: byte_fallback is on but the byte token <0x{b:X2}> is missing");
        // One pre-token for the whole run: without a pre-tokenizer of its own the library splits "▁" from the word.
        bpe = BpeTokenizer.Create(new BpeOptions(vocab) { Merges = merges, PreTokenizer = new RegexPreTokenizer(WholeText(), null) });
    }

    public string Source { get; }
    public int VocabSize => pieces.Length;

    /// <summary>True when <paramref name="root"/> (a tokenizer.json) is a BPE model with byte_fallback.</summary>
    internal static bool Describes(JsonElement root) =>
        root.TryGetProperty("model", out var model) && model.ValueKind == JsonValueKind.Object
        && model.TryGetProperty("byte_fallback", out var fallback) && fallback.ValueKind == JsonValueKind.True;

    public static ByteFallbackBpe Load(string path)
    {
        using var doc = JsonDocument.Parse(SideFile.ReadBytes(path));
        var root = doc.RootElement;
        var model = root.GetProperty("model");
        if (!model.TryGetProperty("type", out var type) || type.GetString() != "BPE")
            throw new RelpSaeException($"{path}: model.type is not BPE");
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var p in model.GetProperty("vocab").EnumerateObject()) vocab[p.Name] = p.Value.GetInt32();
        var merges = new List<string>();
        foreach (var m in model.GetProperty("merges").EnumerateArray())
            merges.Add(m.ValueKind == JsonValueKind.Array ? $"{m[0].GetString()} {m[1].GetString()}" : m.GetString()!);
        return new ByteFallbackBpe(vocab, merges, SplitsWords(root, path), path);
    }

    /// <summary>
    /// The two pipelines in use: normalizer Prepend("▁") + Replace(" ", "▁") with no pre-tokenizer (Llama 2),
    /// or a Metaspace pre-tokenizer that prepends "▁" (later Mistral / Llama exports), splitting before each "▁" when split is on.
    /// </summary>
    private static bool SplitsWords(JsonElement root, string path)
    {
        bool hasNormalizer = root.TryGetProperty("normalizer", out var normalizer) && normalizer.ValueKind != JsonValueKind.Null;
        bool hasPre = root.TryGetProperty("pre_tokenizer", out var pre) && pre.ValueKind != JsonValueKind.Null;
        if (hasNormalizer && !hasPre)
        {
            string text = normalizer.GetRawText();
            if (text.Contains("\"Prepend\"") && text.Contains("\"Replace\"")) return false;
        }
        if (!hasNormalizer && hasPre && pre.TryGetProperty("type", out var type) && type.GetString() == "Metaspace")
            return !pre.TryGetProperty("split", out var split) || split.ValueKind != JsonValueKind.False;
        throw new RelpSaeException($"{path}: the normalizer / pre_tokenizer pair is neither Llama 2's (Prepend + Replace) nor a Metaspace; not supported");
    }

    public int[] Encode(string text)
    {
        if (text.Length == 0) return [];
        string normal = Space + text.Replace(' ', Space);
        var ids = new List<int>();
        var run = new StringBuilder();
        Span<byte> bytes = stackalloc byte[4];
        foreach (var word in splitWords ? Words(normal) : [normal])
        {
            foreach (var rune in word.EnumerateRunes())
            {
                string s = rune.ToString();
                if (vocab.ContainsKey(s)) { run.Append(s); continue; }
                Flush(run, ids);
                int n = rune.EncodeToUtf8(bytes);
                for (int i = 0; i < n; i++) ids.Add(vocab[$"<0x{bytes[i]:X2}>"]);
            }
            Flush(run, ids);
        }
        return [.. ids];
    }

    private void Flush(StringBuilder run, List<int> ids)
    {
        if (run.Length == 0) return;
        ids.AddRange(bpe.EncodeToIds(run.ToString()));
        run.Clear();
    }

    private static IEnumerable<string> Words(string text)
    {
        int start = 0;
        for (int i = 1; i < text.Length; i++)
            if (text[i] == Space) { yield return text[start..i]; start = i; }
        yield return text[start..];
    }

    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new List<byte>();
        foreach (var id in ids)
        {
            var piece = (uint)id < (uint)pieces.Length ? pieces[id] : null;
            if (piece is null) throw new RelpSaeException($"token id {id} is not in the vocabulary of {Source} (size {VocabSize})");
            if (piece.Length == 6 && piece.StartsWith("<0x", StringComparison.Ordinal) && piece.EndsWith('>'))
                bytes.Add(Convert.ToByte(piece[3..5], 16));
            else
                bytes.AddRange(Encoding.UTF8.GetBytes(piece.Replace(Space, ' ')));
        }
        string text = Encoding.UTF8.GetString(bytes.ToArray());
        return text.StartsWith(' ') ? text[1..] : text;   // the "▁" put in front when encoding
    }
}
