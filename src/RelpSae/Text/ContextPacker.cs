namespace RelpSae.Text;

/// <summary>
/// Packs documents into contexts of a fixed length: the documents' tokens are concatenated (with the
/// separator between documents, not before the first), cut into chunks of ContextLength − 1 tokens
/// (ContextLength without BOS), and each chunk gets BOS in front. A document may span contexts; the
/// final chunk, if shorter than a context, is dropped so every context is full. Deterministic.
/// </summary>
public sealed class ContextPacker
{
    public PackingOptions Options { get; }

    /// <summary>Tokens of the stream per context (ContextLength less the BOS slot).</summary>
    public int ChunkLength { get; }

    public ContextPacker(PackingOptions options)
    {
        var bos = options.PrependBos ? 1 : 0;
        if (options.ContextLength <= bos)
            throw new RelpSaeException($"context length {options.ContextLength} leaves no room for text{(bos == 1 ? " after BOS" : "")}");
        Options = options;
        ChunkLength = options.ContextLength - bos;
    }

    /// <summary>Tokenizes each document (no BOS) and packs the result.</summary>
    public IEnumerable<int[]> Pack(IEnumerable<string> documents, ITextTokenizer tokenizer) =>
        Pack(documents.Select(tokenizer.Encode));

    /// <summary>Packs already tokenized documents; each returned array is a new, full context.</summary>
    public IEnumerable<int[]> Pack(IEnumerable<int[]> documents) => Pack(documents.Select(d => new Piece<int[]>(d)));

    /// <summary>Packs tokenized pieces of documents: a separator before each document but the first, none inside one.</summary>
    public IEnumerable<int[]> Pack(IEnumerable<Piece<int[]>> pieces)
    {
        var bos = Options.PrependBos ? 1 : 0;
        var context = NewContext();
        var filled = bos;
        foreach (var segment in WithSeparators(pieces))
        {
            for (var taken = 0; taken < segment.Length;)
            {
                var n = Math.Min(segment.Length - taken, context.Length - filled);
                segment.AsSpan(taken, n).CopyTo(context.AsSpan(filled));
                taken += n;
                filled += n;
                if (filled < context.Length) continue;
                yield return context;
                context = NewContext();
                filled = bos;
            }
        }
    }

    /// <summary>The token stream as segments: the separator is a stream token like any other and may fall at a chunk boundary.</summary>
    IEnumerable<int[]> WithSeparators(IEnumerable<Piece<int[]>> pieces)
    {
        int[]? separator = Options.SeparatorId is { } id ? [id] : null;
        var first = true;
        foreach (var piece in pieces)
        {
            if (!first && !piece.Continues && separator is not null) yield return separator;
            first = false;
            yield return piece.Content;
        }
    }

    int[] NewContext()
    {
        var context = new int[Options.ContextLength];
        if (Options.PrependBos) context[0] = Options.BosId;
        return context;
    }
}
