using RelpSae.Model;
using RelpSae.Sae;
using RelpSae.Text;

namespace RelpSae.Tests.Sae;

/// <summary>A training run in the library, start to finish: checkpoints while it trains, then the SAE, its side files, no checkpoint.</summary>
public class SaeTrainingRunTests
{
    [Fact]
    public void FinishSavesTheSaeItsSummariesMeansAndDensityAndDropsTheCheckpoint()
    {
        var model = ModelFolder.Load(TestPaths.Data("tarot-gpt2"));
        var hook = model.Facts.ParseHook("blocks.1.hook_resid_post");
        var packing = new PackingOptions { ContextLength = 16, BosId = model.Facts.BosTokenId };
        var data = new SaeDataSettings(TarotText.WriteFile(), "text", packing, SkipBos: true);
        var folder = Directory.CreateTempSubdirectory().FullName;
        var run = new SaeTrainingRun(model, hook, data, folder);
        var source = ModelActivationSource.FromText(model, hook, data.DataPath, packing, new ModelActivationOptions { ShuffleRows = 256, SkipFirstPosition = true });
        var trainer = SaeTrainer.Start(new SaeTrainingOptions { DSae = 256, BatchSize = 64, TotalSteps = 4 }, source);

        var sae = run.Train(trainer, checkpointEverySteps: 2, data.Provenance(hook.Name, "tarot-gpt2"));
        Assert.True(File.Exists(run.Checkpoint));
        var report = run.Finish(sae, evalTokens: 60);

        Assert.False(File.Exists(run.Checkpoint));
        Assert.True(report.Metrics.Tokens >= 60);
        Assert.Equal(sae.WDec, SaeFiles.Load(folder).WDec);
        Assert.Equal(report.FeatureMeans, FeatureMeans.Load(folder));
        Assert.True(File.Exists(Path.Combine(folder, FeatureSummaries.FileName)));
        Assert.True(File.Exists(Path.Combine(folder, SaeFiles.SparsityFile)));
    }

    [Fact]
    public void TheFolderIsHeldForTheWholeRunAndItsErrorsSpeakTheLibrarysWords()
    {
        var folder = Directory.CreateTempSubdirectory().FullName;
        var record = new System.Text.Json.Nodes.JsonObject { ["hook"] = "blocks.1.hook_resid_post", ["command"] = "train" };
        using (SaeTrainingFolder.Open(folder, resume: false, replace: false, record))
        {
            var e = Assert.Throws<SettingException>(() => SaeTrainingFolder.Open(folder, resume: false, replace: false, record));
            Assert.Equal($"{folder} is in use by another run (it holds .lock); wait for that run or choose another output folder", e.Message);
        }
        var again = Assert.Throws<SettingException>(() => SaeTrainingFolder.Open(folder, resume: true, replace: false, record));
        Assert.DoesNotContain("--", again.Message);
        Assert.Contains("resume: true", again.Message);
    }

    [Fact]
    public void ATranscodersRunResumesOnlyWithItsOutputHook()
    {
        var folder = Directory.CreateTempSubdirectory().FullName;
        var settings = new SaeDataSettings("corpus.txt", "text", TarotText.Packing(), SkipBos: true);
        var options = new SaeTrainingOptions { DSae = 8, TotalSteps = 1 };
        var input = new RelpSae.Model.HookPoint(RelpSae.Model.HookKind.Ln2Normalized, 1);
        var record = SaeTrainingFolder.Record(settings, input, options, 512, "train", new RelpSae.Model.HookPoint(RelpSae.Model.HookKind.MlpOut, 1));
        SaeTrainingFolder.Open(folder, resume: false, replace: false, record).Dispose();
        File.WriteAllText(Path.Combine(folder, SaeTrainingRun.CheckpointFile), "a run in progress");

        SaeTrainingFolder.Open(folder, resume: true, replace: false, record).Dispose();
        var other = SaeTrainingFolder.Record(settings, input, options, 512, "train", new RelpSae.Model.HookPoint(RelpSae.Model.HookKind.MlpHookOut, 1));
        Assert.Contains("was started with output_hook \"blocks.1.hook_mlp_out\", this command gives \"blocks.1.mlp.hook_out\"",
            Assert.Throws<SettingException>(() => SaeTrainingFolder.Open(folder, resume: true, replace: false, other)).Message);
        var sae = SaeTrainingFolder.Record(settings, input, options, 512, "train");
        Assert.Contains("was started with output_hook \"blocks.1.hook_mlp_out\", this command gives none",
            Assert.Throws<SettingException>(() => SaeTrainingFolder.Open(folder, resume: true, replace: false, sae)).Message);
    }
}
