using System.CommandLine;
using System.Globalization;
using RelpSae.Reports;

namespace RelpSae.Cli;

/// <summary>
/// The header of every evaluate protocol's report: the protocol's own facts, then the command line,
/// tool version and date, so a reader months later knows what was run and can run it again.
/// </summary>
internal static class RunHeader
{
    public static ReportHeader Build(string title, ParseResult parse, bool gatedMlp, params KeyValuePair<string, string>[] facts) =>
        new(title, [.. facts,
            new("command", "relp-sae " + string.Join(' ', parse.Tokens.Select(t => Commands.TrainSaeCommand.Quote(t.Value)))),
            new("tool", $"relp-sae {typeof(RelpSaeException).Assembly.GetName().Version} on .NET {Environment.Version}"),
            new("date", DateTime.UtcNow.ToString("yyyy-MM-dd HH:mm 'UTC'", CultureInfo.InvariantCulture)),
        ], gatedMlp);

    /// <summary>A folder by its full path, the embedded one by what it is, a Hub name as written.</summary>
    public static string Describe(string folder, string embedded) =>
        CliDefaults.IsEmbedded(folder) ? embedded : Directory.Exists(folder) ? Path.GetFullPath(folder) : folder;

    public static KeyValuePair<string, string> Model(string folder) =>
        new("model", Describe(folder, "the embedded tarot GPT-2 (4 layers, d_model 128, vocabulary 1,000)"));

    public static KeyValuePair<string, string> Prompts(string? file, string? task, int count) =>
        new("prompts", file ?? $"built-in task {task ?? "contrastive"}, {count} prompts");

    public static KeyValuePair<string, string> Baseline(string? given) =>
        new("baseline", given ?? "auto (the corrupted prompt where one is given, else zero)");

    public static KeyValuePair<string, string> Metric(string? given) =>
        new("metric", given ?? "auto (logit difference target - foil where a foil or corrupted prompt is given, else logit)");

    public static KeyValuePair<string, string> Methods(IEnumerable<string> names) => new("methods", string.Join(", ", names));
}
