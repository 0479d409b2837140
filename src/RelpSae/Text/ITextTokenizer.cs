namespace RelpSae.Text;

/// <summary>A model's tokenizer, whatever its format: text to ids and back. Encode never adds BOS (the caller's choice).</summary>
public interface ITextTokenizer
{
    /// <summary>Where it was loaded from (for messages).</summary>
    string Source { get; }

    /// <summary>Number of ids (the model's embedding must have at least this many rows).</summary>
    int VocabSize { get; }

    int[] Encode(string text);

    string Decode(ReadOnlySpan<int> ids);

    /// <summary>One token as text for display.</summary>
    string TokenText(int id) => Decode([id]);

    /// <summary>The id of a text that must be exactly one token (a metric's target, say); otherwise an error naming its ids.</summary>
    int SingleToken(string text, string what)
    {
        var ids = Encode(text);
        if (ids.Length == 1) return ids[0];
        string quoted = text.Length > 60 ? $"{text[..60]}…" : text;
        throw new RelpSaeException($"{what} \"{quoted}\" is {ids.Length} tokens ({string.Join(", ", ids.Take(10))}{(ids.Length > 10 ? ", …" : "")}), not one");
    }
}
