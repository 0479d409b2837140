using System.Diagnostics;

namespace RelpSae.Benchmarks;

/// <summary>
/// Runs the libtorch anchor kit (../shared/anchors/libtorch-cpu: run.sh after a one-time setup.sh, as
/// root) and reads its timings (<see cref="AnchorResults"/>).
/// </summary>
public static class AnchorKit
{
    public static IReadOnlyList<BenchRow> Run(string kitDir, int reps, int warmup, IReadOnlyList<int> threadCounts)
    {
        var script = RunScript(kitDir);
        var start = new ProcessStartInfo("bash") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var arg in new[] { script, reps.ToString(), warmup.ToString(), string.Join(',', threadCounts) }) start.ArgumentList.Add(arg);
        using var process = Process.Start(start) ?? throw new RelpSaeException($"cannot start {script}");
        var stderr = process.StandardError.ReadToEndAsync();
        var lines = new List<string>();
        while (process.StandardOutput.ReadLine() is { } line) lines.Add(line);
        process.WaitForExit();
        if (process.ExitCode != 0)
        {
            var last = stderr.Result.Split('\n', StringSplitOptions.RemoveEmptyEntries).LastOrDefault() ?? "";
            throw new RelpSaeException($"{script} failed (exit {process.ExitCode}: {last.Trim()}); run {Path.Combine(kitDir, "setup.sh")} once first, as root");
        }
        return AnchorResults.Parse(lines, script);
    }

    /// <summary>The kit's run.sh; a clear error when <paramref name="kitDir"/> is not the kit's folder.</summary>
    public static string RunScript(string kitDir)
    {
        var script = Path.Combine(kitDir, "run.sh");
        return File.Exists(script) ? script : throw new RelpSaeException($"{kitDir} holds no run.sh (give the anchor kit's folder)");
    }
}
