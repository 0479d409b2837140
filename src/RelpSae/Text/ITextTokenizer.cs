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
}
