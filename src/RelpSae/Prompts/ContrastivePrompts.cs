namespace RelpSae.Prompts;

/// <summary>
/// A contrastive prompt set suited to the default tarot model: reading-style sentences whose subject
/// word is swapped for another single-token word in the corrupted prompt (same token length). Target
/// and foil are left to the model: its top prediction on the clean and on the corrupted prompt.
/// </summary>
public static class ContrastivePrompts
{
    private static readonly string[] Templates =
    [
        "Your {X} will",
        "Try not to worry about your {X} this",
        "This week you should focus on your {X} and",
        "Do not let your {X} get in the way of",
        "You need to take care of your {X} because",
        "The {X} you want is not",
    ];

    // Each is one token for the tarot model's tokenizer (with its leading space).
    private static readonly string[] Words =
    [
        "money", "work", "family", "friends", "health", "energy", "time", "life", "week", "weekend", "moment",
        "people", "person", "friend", "mind", "soul", "plan", "problem", "situation", "task", "year", "head",
        "nature", "effort", "reason", "feelings", "confidence", "control", "day", "world", "things", "idea",
    ];

    /// <summary>The first n cases of a fixed, deterministic list (at most 6 templates × 32 word pairs).</summary>
    public static IReadOnlyList<PromptCase> Generate(int n)
    {
        int max = Templates.Length * Words.Length;
        if (n <= 0 || n > max) throw new SettingException(name => $"{name(Setting.PromptCount)} must be between 1 and {max} for the contrastive task, got {n}");
        var cases = new List<PromptCase>(n);
        for (int i = 0; i < n; i++)
        {
            var template = Templates[i % Templates.Length];
            int pair = i / Templates.Length;
            // Consecutive pairs walk the word list with different strides so that subjects vary across templates.
            var clean = Words[(7 * pair + i) % Words.Length];
            var corrupt = Words[(7 * pair + i + 13) % Words.Length];
            cases.Add(new PromptCase(template.Replace("{X}", clean), Corrupt: template.Replace("{X}", corrupt)));
        }
        return cases;
    }
}
