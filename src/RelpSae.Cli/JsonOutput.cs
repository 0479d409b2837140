using System.CommandLine;

namespace RelpSae.Cli;

/// <summary>
/// <c>--json FILE</c> means the same in every command: also write the results as JSON to FILE, or with
/// <c>-</c> or no FILE to standard output (commands whose whole output is the result then print only the JSON).
/// </summary>
internal static class JsonOutput
{
    public const string StandardOutput = "-";

    public static Option<string?> Option(string what) => new("--json")
    {
        Description = $"Also write {what} as JSON to this file (- or no FILE: to standard output).",
        HelpName = "FILE",
        Arity = ArgumentArity.ZeroOrOne,
    };

    /// <summary>Where --json sends the JSON: null when the option is absent, <see cref="StandardOutput"/> when given without a file.</summary>
    public static string? Target(ParseResult parse, Option<string?> option) =>
        parse.GetResult(option) is null ? null : parse.GetValue(option) ?? StandardOutput;

    public static bool ToStandardOutput(string? path) => path == StandardOutput;

    public static void Write(string path, string json, TextWriter output)
    {
        if (ToStandardOutput(path)) output.WriteLine(json);
        else File.WriteAllText(path, json);
    }
}
