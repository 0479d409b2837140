using System.Text;
using System.Text.RegularExpressions;
using Microsoft.ML.Tokenizers;

namespace RelpSae.Text;

/// <summary>
/// GPT-2's byte-level BPE tokenizer (Microsoft.ML.Tokenizers underneath), loaded from a folder with
/// vocab.json + merges.txt or a Hugging Face tokenizer.json. Encode never adds BOS: GPT-2's tokenizer
/// doesn't, and prepending &lt;|endoftext|&gt; is the caller's explicit choice.
/// </summary>
public sealed partial class Gpt2Tokenizer : ITextTokenizer
{
    // GPT-2's pre-tokenizer split (contractions, letters, digits, other symbols, whitespace runs).
    [GeneratedRegex(@"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+")]
    private static partial Regex Gpt2Split();

    readonly BpeTokenizer _bpe;
    readonly string?[] _tokens;
    readonly IReadOnlyDictionary<string, int> _special;

    /// <summary>Number of ids, added tokens included (the model's embedding must have at least this many rows).</summary>
    public int VocabSize => _tokens.Length;

    /// <summary>The id of &lt;|endoftext|&gt;, GPT-2's BOS/EOS/separator token.</summary>
    public int EndOfTextId { get; }

    /// <summary>Where the tokenizer was loaded from (for messages).</summary>
    public string Source { get; }

    Gpt2Tokenizer(BpeFiles files, string source)
    {
        Source = source;
        BpeConsistency.Check(files, source);
        _special = files.SpecialTokens;
        EndOfTextId = files.SpecialTokens.TryGetValue(BpeFiles.EndOfText, out var eot)
            ? eot
            : throw new RelpSaeException($"{source}: no {BpeFiles.EndOfText} token");
        _tokens = new string?[files.Vocab.Values.Max() + 1];
        foreach (var (token, id) in files.Vocab) _tokens[id] = token;
        try
        {
            _bpe = BpeTokenizer.Create(new BpeOptions(files.Vocab)
            {
                Merges = files.Merges,
                SpecialTokens = files.SpecialTokens,
                PreTokenizer = new RegexPreTokenizer(Gpt2Split(), files.SpecialTokens),
                ByteLevel = true,
            });
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or FormatException)
        {
            throw new RelpSaeException($"{source}: not a usable BPE tokenizer ({e.Message.Split('\n')[0]})", e);
        }
    }

    /// <summary>Loads tokenizer.json if the folder has one, else vocab.json + merges.txt.</summary>
    public static Gpt2Tokenizer Load(string dir)
    {
        var json = Path.Combine(dir, "tokenizer.json");
        var vocab = Path.Combine(dir, "vocab.json");
        var merges = Path.Combine(dir, "merges.txt");
        if (File.Exists(json)) return new Gpt2Tokenizer(BpeFiles.FromTokenizerJson(json), json);
        if (File.Exists(vocab) && File.Exists(merges)) return new Gpt2Tokenizer(BpeFiles.FromVocabAndMerges(vocab, merges), dir);
        throw new RelpSaeException($"tokenizer folder {dir}: has neither tokenizer.json nor vocab.json + merges.txt");
    }

    /// <summary>Token ids of the text; special tokens written in the text (&lt;|endoftext|&gt;) become their single id.</summary>
    public int[] Encode(string text)
    {
        if (text.Length == 0) return [];
        try { StrictText.Utf8.GetByteCount(text); }
        catch (EncoderFallbackException e)
        {
            throw new RelpSaeException($"text holds a lone surrogate \\u{(int)text[e.Index]:X4} at character {e.Index}, not valid Unicode");
        }
        return [.. _bpe.EncodeToIds(text)];
    }

    /// <summary>The text the ids spell (bytes that do not form whole UTF-8 characters become U+FFFD).</summary>
    public string Decode(ReadOnlySpan<int> ids)
    {
        var bytes = new List<byte>(ids.Length * 4);
        foreach (var id in ids) AppendBytes(id, bytes);
        return Encoding.UTF8.GetString(bytes.ToArray());
    }

    /// <summary>
    /// One token as text for display: control characters escaped (\n, \t, \\, \u0001) and a token that is
    /// only part of a UTF-8 character shown as its bytes (\xF0\x9F).
    /// </summary>
    public string TokenText(int id)
    {
        var bytes = new List<byte>();
        AppendBytes(id, bytes);
        var raw = bytes.ToArray();
        try
        {
            return Escape(new UTF8Encoding(false, throwOnInvalidBytes: true).GetString(raw));
        }
        catch (DecoderFallbackException)
        {
            return string.Concat(raw.Select(b => b < 0x80 ? Escape(((char)b).ToString()) : $"\\x{b:X2}"));
        }
    }

    /// <summary>The id of a text that must be exactly one token (a metric's target, say); otherwise an error showing its tokens.</summary>
    public int SingleToken(string text, string what = "token")
    {
        var ids = Encode(text);
        if (ids.Length == 1) return ids[0];
        // A long text is cut in the message: an error line never echoes a whole document.
        const int shown = 10;
        string more = ids.Length > shown ? ", …" : "";
        string quoted = text.Length > 60 ? $"{Escape(text[..60])}…" : Escape(text);
        var first = ids.Take(shown).ToList();
        throw new RelpSaeException(
            $"{what} \"{quoted}\" is {ids.Length} tokens: [{string.Join(", ", first.Select(i => $"\"{TokenText(i)}\""))}{more}] = [{string.Join(", ", first)}{more}]");
    }

    void AppendBytes(int id, List<byte> bytes)
    {
        var token = (uint)id < (uint)_tokens.Length ? _tokens[id] : null;
        if (token is null)
            throw new RelpSaeException($"token id {id} is not in the vocabulary of {Source} (size {VocabSize})");
        if (_special.ContainsKey(token)) bytes.AddRange(Encoding.UTF8.GetBytes(token));
        else if (!ByteLevelAlphabet.TryAppendBytes(token, bytes))
            throw new RelpSaeException($"{Source}: token {id} \"{Escape(token)}\" has a character outside GPT-2's byte alphabet");
    }

    static string Escape(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (var c in text)
            sb.Append(c switch
            {
                '\n' => "\\n",
                '\t' => "\\t",
                '\r' => "\\r",
                '\\' => "\\\\",
                '"' => "\\\"",
                _ when char.IsControl(c) => $"\\u{(int)c:X4}",
                _ => c.ToString(),
            });
        return sb.ToString();
    }
}
