namespace RelpSae.Text;

/// <summary>
/// How a token stream is cut into training contexts. Plain properties so an SAE's cfg.json can record
/// them (SAELens names: context_size, prepend_bos, sequence_separator_token).
/// </summary>
public sealed record PackingOptions
{
    /// <summary>Tokens per context, BOS included.</summary>
    public required int ContextLength { get; init; }

    /// <summary>Start every context with <see cref="BosId"/> (what TransformerLens does by default).</summary>
    public bool PrependBos { get; init; } = true;

    /// <summary>The BOS id (GPT-2: &lt;|endoftext|&gt;).</summary>
    public required int BosId { get; init; }

    /// <summary>Token inserted between consecutive documents; null to join them directly.</summary>
    public int? SeparatorId { get; init; }

    /// <summary>GPT-2's usual choice: BOS per context and &lt;|endoftext|&gt; between documents.</summary>
    public static PackingOptions Gpt2(Gpt2Tokenizer tokenizer, int contextLength) => new()
    {
        ContextLength = contextLength,
        BosId = tokenizer.EndOfTextId,
        SeparatorId = tokenizer.EndOfTextId,
    };
}
