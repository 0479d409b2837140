using System.CommandLine;

namespace RelpSae.Cli;

/// <summary>The option or command a misspelt word was probably meant to be ("--promt" → "--prompt").</summary>
internal static class DidYouMean
{
    /// <summary>The closest name of <paramref name="command"/>'s options and subcommands, if it is at most two edits away.</summary>
    public static string? Suggest(Command command, string word)
    {
        var names = command.Options.SelectMany(o => o.Aliases.Prepend(o.Name))
            .Concat(command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name));
        var best = names.Select(n => (Name: n, Distance: Distance(word, n))).OrderBy(x => x.Distance).ThenBy(x => x.Name).FirstOrDefault();
        return best.Name is not null && best.Distance <= Math.Min(2, word.Length / 3) ? best.Name : null;
    }

    /// <summary>Levenshtein distance (insertions, deletions, substitutions), on two rows.</summary>
    private static int Distance(string a, string b)
    {
        var previous = new int[b.Length + 1];
        var current = new int[b.Length + 1];
        for (int j = 0; j <= b.Length; j++) previous[j] = j;
        for (int i = 1; i <= a.Length; i++)
        {
            current[0] = i;
            for (int j = 1; j <= b.Length; j++)
                current[j] = Math.Min(Math.Min(current[j - 1], previous[j]) + 1, previous[j - 1] + (a[i - 1] == b[j - 1] ? 0 : 1));
            (previous, current) = (current, previous);
        }
        return previous[b.Length];
    }
}
