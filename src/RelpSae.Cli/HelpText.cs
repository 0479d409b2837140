using System.CommandLine;

namespace RelpSae.Cli;

/// <summary>
/// Makes --help state defaults truly and in the same words everywhere: every on/off option says
/// whether it is on by default (System.CommandLine shows no default for them), and descriptions use only ASCII minus signs, so what is copied from help pastes into a shell.
/// </summary>
internal static class HelpText
{
    public static void Apply(Command parent)
    {
        foreach (var command in parent.Subcommands)
        {
            foreach (var option in command.Options)
            {
                if (option.Description is { } text) option.Description = text.Replace('\u2212', '-');
                if (option is Option<bool> flag && !flag.Recursive)
                    option.Description += Default(flag);
            }
            Apply(command);
        }
    }

    private static string Default(Option<bool> flag) =>
        flag.HasDefaultValue && flag.GetDefaultValue() is true
            ? $" [default: on; {flag.Name} false turns it off]"
            : " [default: off]";
}
