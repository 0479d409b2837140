namespace RelpSae.Cli;

/// <summary>
/// Whether a tokenizer cut a text into near-characters: the embedded tarot model's 1,000-token vocabulary
/// splits plain English so (a 58-character sentence into 32 tokens), while GPT-2's averages about four
/// characters a token. Attributions are then to characters, which a user who expected words should know.
/// </summary>
internal static class CharacterSplit
{
    /// <summary>Texts shorter than this say too little about the tokenizer.</summary>
    private const int MinCharacters = 20;

    /// <summary>"Most tokens are one or two characters": GPT-2 on English averages about 4.</summary>
    private const double MaxCharactersPerToken = 2.0;

    /// <summary>A one-line note when <paramref name="text"/> came out as near-characters, else null.</summary>
    public static string? Note(string text, int tokenCount, string tokenizerSource)
    {
        if (text.Length < MinCharacters || tokenCount == 0) return null;
        double perToken = (double)text.Length / tokenCount;
        return perToken > MaxCharactersPerToken ? null
            : $"the prompt's {text.Length} characters became {tokenCount} tokens ({perToken:F1} characters each) with the tokenizer of {tokenizerSource}: "
              + "attributions will be to near-characters; pass --model for a model with a larger vocabulary (e.g. gpt2) to attribute to words";
    }
}
