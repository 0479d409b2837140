using System.CommandLine;
using Spectre.Console;

namespace RelpSae.Cli;

/// <summary>
/// <c>--json FILE</c> means the same in every command: also write the results as JSON to FILE, or with
/// <c>-</c> or no FILE to standard output. Then standard output carries the JSON document alone, so that it
/// pipes into <c>python3 -m json.tool</c> or <c>jq</c>: everything meant for a reader goes to stderr.
/// </summary>
internal static class JsonOutput
{
    public const string StandardOutput = "-";
    private const string Name = "--json";

    /// <summary>The process's standard output while a command's human output is routed to stderr.</summary>
    private static TextWriter? documentOutput;

    public static Option<string?> Option(string what) => new(Name)
    {
        Description = $"Also write {what} as JSON to this file (- or no FILE: to standard output, the rest of the output then going to stderr).",
        HelpName = "FILE",
        Arity = ArgumentArity.ZeroOrOne,
    };

    /// <summary>Where --json sends the JSON: null when the option is absent, <see cref="StandardOutput"/> when given without a file.</summary>
    public static string? Target(ParseResult parse, Option<string?> option) =>
        parse.GetResult(option) is null ? null : parse.GetValue(option) ?? StandardOutput;

    public static bool ToStandardOutput(string? path) => path == StandardOutput;

    /// <summary>Writes the document, ending with a newline, to the file or to standard output.</summary>
    public static void Write(string path, string json)
    {
        if (ToStandardOutput(path)) (documentOutput ?? Console.Out).WriteLine(json);
        else File.WriteAllText(path, json + "\n");
    }

    /// <summary>
    /// For the length of one command: when its --json goes to standard output, sends Console.Out and the
    /// Spectre tables to stderr and keeps standard output for the document; otherwise tables go to
    /// Console.Out as it is now. Disposing restores both.
    /// </summary>
    public static IDisposable RouteHumanOutput(ParseResult parse)
    {
        var stdout = Console.Out;
        bool toStdout = parse.CommandResult.Command.Options.FirstOrDefault(o => o.Name == Name) is Option<string?> json
            && ToStandardOutput(Target(parse, json));
        if (toStdout)
        {
            documentOutput = stdout;
            Console.SetOut(Console.Error);
        }
        AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Out) });
        return new Restore(() =>
        {
            documentOutput = null;
            Console.SetOut(stdout);
            AnsiConsole.Console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(stdout) });
        });
    }

    private sealed class Restore(Action restore) : IDisposable
    {
        public void Dispose() => restore();
    }
}
