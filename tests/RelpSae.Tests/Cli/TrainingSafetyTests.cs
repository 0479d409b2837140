using RelpSae.Cli.Commands;
using RelpSae.Formats;
using RelpSae.Sae;
using RelpSae.Tests.Sae;

namespace RelpSae.Tests.Cli;

/// <summary>Training that diverges stops with a clear error; an --out that holds other files is never silently replaced.</summary>
[Collection(nameof(ConsoleCollection))]
public class TrainingSafetyTests
{
    private static string Temp() => Directory.CreateTempSubdirectory("relpsae-safety").FullName;

    /// <summary>Exit code 2 and, as the last line on stderr (after any progress bar), the error.</summary>
    private static void FailsWith((int Code, string Out, string Error) result, params string[] expected)
    {
        Assert.True(result.Code == 2, $"exit {result.Code}: {result.Error}");
        var last = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries)[^1];
        Assert.StartsWith("error: ", last);
        foreach (var e in expected) Assert.Contains(e, last);
    }

    [Fact]
    public void InfiniteSparsityCoefficientIsAnOptionError() =>
        FailsWith(CliHarness.Run(SaeCommandsTests.Train(TarotText.WriteFile(), Path.Combine(Temp(), "sae"), "--l1", "Infinity")), "--l1 must be >= 0 and finite");

    [Fact]
    public void DivergenceStopsTheRunAndKeepsOnlyFiniteCheckpoints()
    {
        var outDir = Path.Combine(Temp(), "sae");
        FailsWith(CliHarness.Run(SaeCommandsTests.Train(TarotText.WriteFile(), outDir, "--lr", "1e30", "--checkpoint-every", "1")),
            "training diverged at step", "lower --lr");
        Assert.False(File.Exists(Path.Combine(outDir, SaeFiles.WeightsFile)));
        var checkpoint = Path.Combine(outDir, RelpSae.Sae.SaeTrainingRun.CheckpointFile);
        if (File.Exists(checkpoint))
        {
            using var file = SafetensorsFile.Open(checkpoint);
            foreach (var e in file.Entries) file.ReadFloat(e.Name, checkFinite: true);
        }
    }

    [Fact]
    public void TrainSaeDoesNotReplaceSaeFilesWithoutForce()
    {
        var outDir = Temp();
        File.WriteAllText(Path.Combine(outDir, SaeFiles.WeightsFile), "someone's SAE");
        FailsWith(CliHarness.Run(SaeCommandsTests.Train(TarotText.WriteFile(), outDir)), "already holds SAE files (sae_weights.safetensors)", "--force");
        Assert.Equal("someone's SAE", File.ReadAllText(Path.Combine(outDir, SaeFiles.WeightsFile)));
    }

    [Fact]
    public void TrainSaeRefusesAFolderInUseByAnotherRunAndTouchesNothing()
    {
        var outDir = Temp();
        using (RelpSae.Reports.FolderLock.Acquire(outDir))
        {
            FailsWith(CliHarness.Run(SaeCommandsTests.Train(TarotText.WriteFile(), outDir)), $"{outDir} is in use by another run", "choose another --out");
            Assert.Equal([Path.Combine(outDir, RelpSae.Reports.FolderLock.FileName)], Directory.GetFiles(outDir));
        }
    }

    [Fact]
    public void ConvertDoesNotReplaceAnotherModelWithoutForce()
    {
        var outDir = Temp();
        File.WriteAllText(Path.Combine(outDir, ShardedCheckpoint.ConfigFile), "{}");
        FailsWith(CliHarness.Run("convert", "--model", CliHarness.Tarot, "--out", outDir), "already holds a model (config.json)");
        Assert.Equal(0, CliHarness.Run("convert", "--model", CliHarness.Tarot, "--out", outDir, "--force").Code);
        Assert.True(File.Exists(Path.Combine(outDir, ShardedCheckpoint.SafetensorsFile)));
    }

    [Fact]
    public void SampleTextDoesNotReplaceAFileWithoutForce()
    {
        var path = Path.Combine(Temp(), "corpus.txt");
        File.WriteAllText(path, "my corpus");
        string[] args = ["sample-text", "--model", CliHarness.Tarot, "--documents", "2", "--tokens", "8", "--out", path];
        FailsWith(CliHarness.Run(args), "corpus.txt already exists", "--force");
        Assert.Equal("my corpus", File.ReadAllText(path));
        Assert.Equal(0, CliHarness.Run([.. args, "--force"]).Code);
        Assert.NotEqual("my corpus", File.ReadAllText(path));
    }
}
