using RelpSae.Reports;
using RelpSae.Tests.Sae;

namespace RelpSae.Tests.Cli;

/// <summary>
/// Work that used to be silently mixed or lost: --resume and merge across different settings, two runs
/// on one folder, a full disk.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class RunMixingTests
{
    private static readonly Lazy<string> Sae = new(() => CliHarness.RandomSae());
    private static readonly Lazy<string> OtherSae = new(() => CliHarness.RandomSae());

    private static string Temp() => Directory.CreateTempSubdirectory("relpsae-mixing").FullName;

    private static string[] Evaluate(string outDir, params string[] extra) =>
        ["evaluate", "--model", CliHarness.Tarot, "--sae", Sae.Value, "--out", outDir, "--n", "2", .. extra, .. extra.Contains("--methods") ? [] : (string[])["--methods", "gradient,relp"]];

    private static void Succeeds(string[] args)
    {
        var (code, _, error) = CliHarness.Run(args);
        Assert.True(code == 0, $"exit {code}: {error}");
    }

    [Theory]
    [InlineData("--sae", "other", "sae")]
    [InlineData("--baseline", "zero", "baseline")]
    [InlineData("--methods", "gradient", "methods")]
    [InlineData("--metric", "logit", "metric")]
    public void ResumeWithOtherSettingsIsRefusedAndTheRecordsAreUntouched(string option, string value, string setting)
    {
        var outDir = Path.Combine(Temp(), "eval");
        Succeeds(Evaluate(outDir, "--shard", "0/2"));
        var before = File.ReadAllText(Path.Combine(outDir, EvaluationFiles.Raw.FileName));
        var args = Evaluate(outDir, "--resume").ToList();
        int at = args.IndexOf(option);
        if (at >= 0) args[at + 1] = value == "other" ? OtherSae.Value : value; else args.AddRange([option, value]);
        HostileOptionTests.AssertUserError([.. args], "--resume: the run in", $"was made with {setting} ");
        Assert.Equal(before, File.ReadAllText(Path.Combine(outDir, EvaluationFiles.Raw.FileName)));
        Succeeds(Evaluate(outDir, "--resume"));                       // the same settings (any shard) continue it
    }

    [Fact]
    public void MergeRefusesShardsOfDifferentRunsInEitherOrder()
    {
        string a = Path.Combine(Temp(), "a"), b = Path.Combine(Temp(), "b");
        Succeeds(Evaluate(a, "--shard", "0/2"));
        Succeeds(Evaluate(b, "--shard", "1/2", "--methods", "gradient"));
        HostileOptionTests.AssertUserError(["merge", a, b, "--out", Path.Combine(Temp(), "m")], "was made with methods", "not shards of one run");
        HostileOptionTests.AssertUserError(["merge", b, a, "--out", Path.Combine(Temp(), "m")], "was made with methods", "not shards of one run");
        // Records without settings (an older run) are still checked: their methods differ.
        File.Delete(Path.Combine(a, EvaluationSettings.FileName));
        File.Delete(Path.Combine(b, EvaluationSettings.FileName));
        HostileOptionTests.AssertUserError(["merge", b, a, "--out", Path.Combine(Temp(), "m")], "the shards ran different --methods");
    }

    [Fact]
    public void MergedShardsKeepTheirSettings()
    {
        string a = Path.Combine(Temp(), "a"), b = Path.Combine(Temp(), "b"), merged = Path.Combine(Temp(), "m");
        Succeeds(Evaluate(a, "--shard", "0/2"));
        Succeeds(Evaluate(b, "--shard", "1/2"));
        Succeeds(["merge", a, b, "--out", merged]);
        Assert.Equal(File.ReadAllText(Path.Combine(a, EvaluationSettings.FileName)), File.ReadAllText(Path.Combine(merged, EvaluationSettings.FileName)));
    }

    [Theory]
    [InlineData("again", "prompt 0 is recorded twice (first on line 1)")]
    [InlineData("beyond", "prompt 7 is beyond the 2 prompts of the task")]
    public void ResumeRefusesARecordTheRunCannotHaveWrittenAndLosesNothing(string damage, string message)
    {
        var outDir = Path.Combine(Temp(), "eval");
        Succeeds(Evaluate(outDir));
        var raw = Path.Combine(outDir, EvaluationFiles.Raw.FileName);
        var lines = File.ReadAllLines(raw);
        Assert.Equal(2, lines.Length);
        var damaged = damage == "again" ? [.. lines, lines[0]] : new[] { lines[0], lines[1].Replace("{\"index\":1,", "{\"index\":7,") };
        File.WriteAllLines(raw, damaged);
        HostileOptionTests.AssertUserError(Evaluate(outDir, "--resume"), $"{raw}:{(damage == "again" ? 3 : 2)}: {message}");
        Assert.Equal(damaged, File.ReadAllLines(raw));
        File.WriteAllLines(raw, lines);
        Succeeds(Evaluate(outDir, "--resume"));
        Assert.Equal(lines, File.ReadAllLines(raw));
    }

    [Fact]
    public void MergeIntoOneOfItsShardsIsRefused()
    {
        string a = Path.Combine(Temp(), "a"), b = Path.Combine(Temp(), "b");
        Succeeds(Evaluate(a, "--shard", "0/2"));
        Succeeds(Evaluate(b, "--shard", "1/2"));
        var before = Directory.GetFiles(a).ToDictionary(f => f, File.ReadAllText);
        HostileOptionTests.AssertUserError(["merge", a, b, "--out", a + "/"], $"--out {a}/ is one of the shards");
        Assert.Equal(before, Directory.GetFiles(a).ToDictionary(f => f, File.ReadAllText));
        Succeeds(["merge", a, b, "--out", Path.Combine(Temp(), "m")]);
    }

    [Fact]
    public void AFolderInUseByAnotherRunIsRefused()
    {
        var outDir = Temp();
        using (FolderLock.Acquire(outDir))
            HostileOptionTests.AssertUserError(Evaluate(outDir), "is in use by another run");
        Succeeds(Evaluate(outDir));                                   // the lock goes with its holder
    }

    [Fact]
    public void AFullDiskIsAUserError()
    {
        if (!File.Exists("/dev/full")) return;                        // Linux only: writes to /dev/full fail with ENOSPC
        var sae = CliHarness.RandomSae();
        var (code, _, error) = CliHarness.Run("eval-sae", "--model", CliHarness.Tarot, "--sae", sae, "--data", TarotText.WriteFile(), "--tokens", "64",
            "--json", "/dev/full");
        Assert.Equal(2, code);
        // The progress bar's last state comes first on stderr; the error is the one line after it.
        var last = error.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.StartsWith("error: no space left on the device", last);
        Assert.Contains("/dev/full", last);
    }
}
