using System.CommandLine;

namespace RelpSae.Cli;

/// <summary>
/// <c>--json FILE</c> means the same in every command: also write the results as JSON to FILE, or with
/// <c>-</c> to standard output (commands whose whole output is the result then print only the JSON).
/// </summary>
internal static class JsonOutput
{
    public const string StandardOutput = "-";

    public static Option<string?> Option(string what) => new("--json")
    {
        Description = $"Also write {what} as JSON to this file (- : to standard output).",
        HelpName = "FILE",
    };

    public static bool ToStandardOutput(string? path) => path == StandardOutput;

    public static void Write(string path, string json, TextWriter output)
    {
        if (ToStandardOutput(path)) output.WriteLine(json);
        else File.WriteAllText(path, json);
    }
}
