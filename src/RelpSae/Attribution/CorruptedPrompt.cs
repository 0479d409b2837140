using RelpSae.Text;

namespace RelpSae.Attribution;

/// <summary>A corrupted prompt is patched position by position into the clean one, so both must be equally long.</summary>
public static class CorruptedPrompt
{
    /// <summary>
    /// Refuses a corrupted prompt of another length; with a tokenizer the error shows both tokenizations,
    /// since the texts alone rarely show where they split differently.
    /// </summary>
    public static void CheckLength(int[] tokens, int[] corrupt, ITextTokenizer? tokenizer = null)
    {
        if (corrupt.Length == tokens.Length) return;
        string shown = tokenizer is null ? "" : $" (prompt {Show(tokens, tokenizer)}; corrupted {Show(corrupt, tokenizer)})";
        throw new RelpSaeException($"the corrupted prompt is {corrupt.Length} tokens long but the prompt is {tokens.Length}: they must have the same length{shown}");
    }

    private static string Show(int[] ids, ITextTokenizer tokenizer) => string.Join(' ', ids.Take(24).Select(id => $"\"{tokenizer.TokenText(id)}\""))
        + (ids.Length > 24 ? " …" : "");
}
