using System.CommandLine;
using System.CommandLine.Parsing;

namespace RelpSae.Cli;

/// <summary>
/// Runs a command so that user errors become one line on stderr and a non-zero exit code, and
/// unexpected errors say so and point at --verbose instead of printing a stack trace.
/// </summary>
public static class CliRunner
{
    public const int UserError = 2;
    public const int InternalError = 70;
    public const int Interrupted = 130;
    private const int NoSpaceLeft = 28;   // ENOSPC: .NET puts the errno in HResult on Unix

    public static readonly Option<bool> Verbose = new("--verbose")
    {
        Description = "Print the full details (stack trace) of an unexpected internal error.",
        Recursive = true,
    };

    public static int Invoke(RootCommand root, string[] args)
    {
        var parse = root.Parse(args);
        if (parse.Errors.Count > 0 && args.Length > 0)
        {
            // One line naming the option or argument at fault, instead of the whole help text.
            var path = new List<string>();
            for (var result = parse.CommandResult; result.Command != root; result = (CommandResult)result.Parent!)
                path.Insert(0, result.Command.Name);
            var help = string.Join(' ', ["relp-sae", .. path, "--help"]);
            var error = parse.Errors.FirstOrDefault(e => e.Message.StartsWith("Unrecognized")) ?? parse.Errors[0];
            string? guess = parse.UnmatchedTokens.Count > 0 ? DidYouMean.Suggest(parse.CommandResult.Command, parse.UnmatchedTokens[0]) : null;
            Console.Error.WriteLine($"error: {error.Message.TrimEnd('.')}{(guess is null ? "" : $"; did you mean {guess}?")} (see {help})");
            return UserError;
        }
        var config = new InvocationConfiguration { EnableDefaultExceptionHandler = false };
        try
        {
            using var route = JsonOutput.RouteHumanOutput(parse);
            CliDefaults.ReadDType(parse);
            return parse.Invoke(config);
        }
        catch (Exception e)
        {
            return Report(e, parse.GetValue(Verbose));
        }
    }

    /// <summary>Maps an exception to a message on stderr and an exit code.</summary>
    public static int Report(Exception e, bool verbose)
    {
        while (e is AggregateException { InnerExceptions.Count: 1 } agg) e = agg.InnerExceptions[0];
        switch (e)
        {
            case RelpSaeException:
                Console.Error.WriteLine($"error: {OptionNames.Message(e)}");
                return UserError;
            case OperationCanceledException:
                Console.Error.WriteLine("interrupted");
                return Interrupted;
            case FileNotFoundException f:
                Console.Error.WriteLine($"error: file not found: {f.FileName ?? f.Message}");
                return UserError;
            case DirectoryNotFoundException or UnauthorizedAccessException:
                Console.Error.WriteLine($"error: {e.Message}");
                return UserError;
            case IOException io when io.HResult == NoSpaceLeft:
                Console.Error.WriteLine($"error: no space left on the device ({io.Message.Split('\n')[0]}); free some space and rerun (evaluate and train-sae continue with --resume)");
                return UserError;
            case IOException io:
                // The file system refused (a full quota, a broken disk, a path that is a file): not a bug of ours.
                Console.Error.WriteLine($"error: {io.Message.Split('\n')[0]}");
                return UserError;
            default:
                Console.Error.WriteLine(verbose
                    ? $"internal error: {e}"
                    : $"internal error: {e.GetType().Name}: {e.Message} (this is a bug; rerun with --verbose for details)");
                return InternalError;
        }
    }
}
