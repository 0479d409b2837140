namespace RelpSae.Prompts;

/// <summary>
/// One attribution or evaluation case: the prompt, the target token (text; null = the model's top
/// prediction), an optional foil for a logit difference, and an optional corrupted prompt of the same
/// token length to serve as the baseline. A model without a tokenizer takes the prompts as token ids
/// (<see cref="PromptIds"/>, <see cref="CorruptIds"/>; the texts then only label them).
/// </summary>
public sealed record PromptCase(string Prompt, string? Target = null, string? Foil = null, string? Corrupt = null,
    int[]? PromptIds = null, int[]? CorruptIds = null)
{
    /// <summary>Whether a target or foil is written as a token id: digits only (any other text is a token's text).</summary>
    public static bool IsTokenId(string text) => text.Length > 0 && text.All(char.IsAsciiDigit);

    /// <summary>A case given as token ids, labelled by them.</summary>
    public static PromptCase FromIds(int[] prompt, string? target, string? foil, int[]? corrupt) =>
        new(string.Join(",", prompt), target, foil, corrupt is null ? null : string.Join(",", corrupt), prompt, corrupt);
}
