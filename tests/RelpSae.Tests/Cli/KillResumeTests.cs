using System.Diagnostics;

namespace RelpSae.Tests.Cli;

/// <summary>
/// The real thing: `relp-sae train-sae` as a separate process, SIGKILLed at a random moment after its
/// first checkpoint, then `--resume`d; the SAE it ends with must be byte-identical to an uninterrupted run's.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class KillResumeTests
{
    private const int SigInt = 2;

    [System.Runtime.InteropServices.DllImport("libc", EntryPoint = "kill")]
    private static extern int Kill(int pid, int signal);

    private static readonly string Cli = Path.Combine(AppContext.BaseDirectory, "relp-sae.dll");

    private static string[] TrainArgs(string outDir, string data, int seed = 3) =>
    [
        Cli, "train-sae", "--model", TestPaths.Data("tarot-gpt2"), "--hook", "blocks.1.hook_resid_post", "--architecture", "relu",
        "--tokens", "600000", "--batch", "512", "--context", "32", "--data", data, "--out", outDir, "--seed", seed.ToString(),
        "--checkpoint-every", "25", "--eval-tokens", "512", "--shuffle-rows", "4096",
    ];

    private static Process Start(IEnumerable<string> args)
    {
        var info = new ProcessStartInfo("dotnet") { RedirectStandardOutput = true, RedirectStandardError = true };
        foreach (var a in args) info.ArgumentList.Add(a);
        return Process.Start(info)!;
    }

    private static int RunToEnd(IEnumerable<string> args)
    {
        using var p = Start(args);
        var output = p.StandardOutput.ReadToEndAsync();
        var error = p.StandardError.ReadToEndAsync();
        p.WaitForExit();
        Assert.True(p.ExitCode == 0, $"exit {p.ExitCode}: {error.Result}{output.Result}");
        return p.ExitCode;
    }

    private static readonly Lazy<(string Data, byte[] Weights)> Uninterrupted = new(() =>
    {
        var data = Path.Combine(Directory.CreateTempSubdirectory().FullName, "corpus.txt");
        File.WriteAllText(data, string.Join("\n\n", Enumerable.Range(0, 60).Select(i =>
            $"Reading {i}: you will find that your friends and family matter more than money this week. " +
            $"Take care of your health, trust your feelings and do not rush any decision about work {i % 7}.")));
        var whole = Directory.CreateTempSubdirectory().FullName;
        RunToEnd(TrainArgs(whole, data));
        return (data, File.ReadAllBytes(Path.Combine(whole, "sae_weights.safetensors")));
    });

    [Fact]
    public async Task CtrlCSavesACheckpointExitsCleanlyAndResumes()
    {
        var (data, expected) = Uninterrupted.Value;
        var dir = Directory.CreateTempSubdirectory().FullName;
        var checkpoint = Path.Combine(dir, "checkpoint.safetensors");
        using (var p = Start(TrainArgs(dir, data)))
        {
            var error = p.StandardError.ReadToEndAsync();
            var clock = Stopwatch.StartNew();
            while (!File.Exists(checkpoint) && !p.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(20);
            Assert.Equal(0, Kill(p.Id, SigInt));   // what Ctrl-C in a terminal sends
            p.WaitForExit();
            var stderr = await error;
            Assert.Equal(130, p.ExitCode);
            Assert.Contains("--resume", stderr);
            Assert.DoesNotContain(" at RelpSae", stderr);
        }
        // Resuming with other settings than the run was started with is refused.
        var mismatch = CliHarness.Run([.. TrainArgs(dir, data, seed: 4)[1..], "--resume"]);
        Assert.Equal(2, mismatch.Code);
        Assert.Contains("was started with seed 3", mismatch.Error);
        RunToEnd([.. TrainArgs(dir, data), "--resume"]);
        Assert.Equal(expected, File.ReadAllBytes(Path.Combine(dir, "sae_weights.safetensors")));
    }

    [Fact]
    public void SigkillThenResumeEndsWithTheWeightsOfAnUninterruptedRun()
    {
        var (data, expected) = Uninterrupted.Value;
        var killed = Directory.CreateTempSubdirectory().FullName;
        var checkpoint = Path.Combine(killed, "checkpoint.safetensors");
        using (var p = Start(TrainArgs(killed, data)))
        {
            var clock = Stopwatch.StartNew();
            while (!File.Exists(checkpoint) && !p.HasExited && clock.Elapsed < TimeSpan.FromMinutes(2)) Thread.Sleep(20);
            Assert.True(File.Exists(checkpoint), "the run wrote no checkpoint");
            Thread.Sleep(new Random().Next(0, 400));   // a random moment after the first checkpoint
            if (!p.HasExited) p.Kill();               // SIGKILL: no handler runs
            p.WaitForExit();
        }
        Assert.False(File.Exists(Path.Combine(killed, "sae_weights.safetensors")), "the run finished before it was killed");
        RunToEnd([.. TrainArgs(killed, data), "--resume"]);

        Assert.Equal(expected, File.ReadAllBytes(Path.Combine(killed, "sae_weights.safetensors")));
    }
}
