using System.Diagnostics;
using Spectre.Console;

namespace RelpSae.Cli;

/// <summary>
/// A progress bar for long work: description, bar, percentage, rate and ETA (Spectre.Console).
/// Goes to stderr so JSON on stdout stays clean; prints a plain line now and then when stderr is not
/// a terminal (CI logs), so a long job is never silent.
/// </summary>
public static class ProgressDisplay
{
    /// <summary>Reports progress: units done so far, and a short status (e.g. "loss 0.12 L0 31").</summary>
    public delegate void Report(double done, string status);

    /// <summary>A rate with the digits it needs: a slow job (a graph evaluation, seconds a prompt) would read "0 prompts/s" in whole numbers.</summary>
    public static string FormatRate(double rate, string unit) =>
        $"{rate.ToString(rate >= 10 ? "N0" : rate >= 1 ? "N1" : "N2", System.Globalization.CultureInfo.InvariantCulture)} {unit}/s";

    public static T Run<T>(string title, double total, string unit, Func<Report, T> work)
    {
        var console = AnsiConsole.Create(new AnsiConsoleSettings { Out = new AnsiConsoleOutput(Console.Error) });
        var clock = Stopwatch.StartNew();
        string Rate(double done) => done <= 0 ? "" : FormatRate(done / Math.Max(clock.Elapsed.TotalSeconds, 1e-9), unit);

        if (!console.Profile.Capabilities.Interactive)
        {
            var lastPrint = TimeSpan.Zero;
            var result = work((done, status) =>
            {
                done = Math.Min(done, total);
                if (clock.Elapsed - lastPrint < TimeSpan.FromSeconds(10) && done < total) return;
                lastPrint = clock.Elapsed;
                double eta = done > 0 ? clock.Elapsed.TotalSeconds * (total - done) / done : double.NaN;
                Console.Error.WriteLine($"{title}: {done / total:P0} {Rate(done)} ETA {eta:F0}s {status}");
            });
            return result;
        }

        return console.Progress()
            .AutoClear(false)
            .Columns(new TaskDescriptionColumn { Alignment = Justify.Left }, new ProgressBarColumn(),
                     new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn(), new SpinnerColumn())
            .Start(ctx =>
            {
                var task = ctx.AddTask(title, maxValue: total);
                return work((done, status) =>
                {
                    done = Math.Min(done, total);
                    task.Value = done;
                    task.Description = $"{title} {Rate(done)} {Markup.Escape(status)}";
                });
            });
    }
}
