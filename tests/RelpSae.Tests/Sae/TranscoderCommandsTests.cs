using System.Text.Json.Nodes;
using RelpSae.Sae;
using RelpSae.Tests.Cli;

namespace RelpSae.Tests.Sae;

/// <summary>train-sae --output-hook trains a transcoder, eval-sae measures it and attribute splices it, through the real command line.</summary>
[Collection(nameof(ConsoleCollection))]
public class TranscoderCommandsTests
{
    private static string[] Train(string data, string outDir, params string[] changes) =>
        SaeCommandsTests.Train(data, outDir, ["--hook", "blocks.0.ln2.hook_normalized", "--output-hook", "blocks.0.hook_mlp_out", .. changes]);

    [Fact]
    public void TrainsATranscoderThatEvalSaeMeasuresAndAttributeSplices()
    {
        var data = TarotText.WriteFile();
        var outDir = Path.Combine(Directory.CreateTempSubdirectory().FullName, "tc");
        var trainJson = Path.Combine(outDir, "..", "train.json");
        var (code, output, error) = CliHarness.Run(Train(data, outDir, "--json", trainJson));
        Assert.True(code == 0, error);
        Assert.Contains("trained 200 steps (12800 tokens); transcoder saved to", output);

        var transcoder = TranscoderFiles.Load(outDir);
        Assert.Equal(("blocks.0.ln2.hook_normalized", "blocks.0.hook_mlp_out"), (transcoder.InputHook, transcoder.OutputHook));
        Assert.Equal((SaeArchitecture.Standard, 512, false),
            (transcoder.Dictionary.Config.Architecture, transcoder.DSae, transcoder.Dictionary.Config.ApplyBDecToInput));
        Assert.Equal(512, SaeFiles.LoadLogSparsity(outDir, 512)!.Length);
        Assert.Equal(512, FeatureMeans.Load(outDir).Length);
        Assert.Equal(512, FeatureSummaries.Load(outDir, dSae: 512)!.Density.Count);
        Assert.Equal("blocks.0.hook_mlp_out", JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, SaeTrainingFolder.RunFile)))!["output_hook"]!.GetValue<string>());
        var trained = JsonNode.Parse(File.ReadAllText(trainJson))!;
        Assert.True(trained["explained_variance"]!.GetValue<double>() > 0.5, trained.ToJsonString());
        Assert.True(trained["ce_loss_recovered"]!.GetValue<double>() > 0.5, trained.ToJsonString());

        // eval-sae reads the folder as a transcoder and measures what training's final evaluation measured.
        var evalJson = Path.Combine(outDir, "..", "eval.json");
        (code, output, error) = CliHarness.Run("eval-sae", "--model", CliHarness.Tarot, "--sae", outDir, "--data", data, "--tokens", "300", "--json", evalJson);
        Assert.True(code == 0, error);
        var evaluated = JsonNode.Parse(File.ReadAllText(evalJson))!;
        foreach (var key in new[] { "l0", "explained_variance", "ce_clean", "ce_sae", "ce_zero", "ce_loss_recovered" })
            Assert.Equal(trained[key]!.GetValue<double>(), evaluated[key]!.GetValue<double>(), 1e-9);

        (code, output, error) = CliHarness.Run("attribute", "--model", CliHarness.Tarot, "--sae", outDir, "--prompt-ids", "0,22,31,29,8", "--methods", "gradient");
        Assert.True(code == 0, error);
        Assert.Contains("blocks.0.ln2.hook_normalized → blocks.0.hook_mlp_out (transcoder)", output);
    }

    [Fact]
    public void EvalSaeCopiesACircuitTracerTranscoderToOutAsASaeLensFolderButRefusesASkipConnection()
    {
        var data = TarotText.WriteFile();
        var outDir = Path.Combine(Directory.CreateTempSubdirectory().FullName, "copy");
        var layer = TranscoderCommandTests.CircuitTracerLayer(128, 0, "ln2.hook_normalized", "hook_mlp_out", skip: false);
        var (code, output, error) = CliHarness.Run("eval-sae", "--model", CliHarness.Tarot, "--sae", layer, "--data", data, "--tokens", "60", "--out", outDir);
        Assert.True(code == 0, error);
        Assert.Contains("with transcoder ", output);
        var copy = TranscoderFiles.Load(outDir);
        Assert.Equal(("blocks.0.ln2.hook_normalized", "blocks.0.hook_mlp_out"), (copy.InputHook, copy.OutputHook));
        Assert.Equal(TranscoderFiles.Load(layer).Dictionary.WDec, copy.Dictionary.WDec);
        Assert.True(File.Exists(Path.Combine(outDir, FeatureMeans.FileName)));

        var skip = TranscoderCommandTests.CircuitTracerLayer(128, 0, "ln2.hook_normalized", "hook_mlp_out", skip: true);
        SaeCommandsTests.AssertUserError(CliHarness.Run("eval-sae", "--model", CliHarness.Tarot, "--sae", skip, "--data", data, "--out", outDir + "2"),
            "has a skip connection, which a copy cannot hold yet; evaluate it without --out");
    }

    [Theory]
    [InlineData("--output-hook blocks.0.hook_resid_post", "error: --output-hook: the transcoder writes blocks.0.hook_resid_post; a transcoder stands in for an MLP")]
    [InlineData("--output-hook blocks.2.hook_mlp_out", "error: --output-hook: the transcoder reads blocks.0.ln2.hook_normalized but writes blocks.2.hook_mlp_out: it must read that MLP's input")]
    [InlineData("--output-hook blocks.9.hook_mlp_out", "model has no hook point \"blocks.9.hook_mlp_out\"")]
    [InlineData("--hook blocks.1.hook_resid_post", "error: --output-hook: the transcoder reads blocks.1.hook_resid_post but writes blocks.0.hook_mlp_out")]
    public void HooksThatAreNotOneMlpsInputAndOutputAreOneLineErrorsBeforeTraining(string change, string expected)
    {
        var outDir = Path.Combine(Directory.CreateTempSubdirectory().FullName, "tc");
        SaeCommandsTests.AssertUserError(CliHarness.Run(Train(TarotText.WriteFile(), outDir, change.Split(' '))), expected);
        Assert.False(Directory.Exists(outDir));
    }
}
