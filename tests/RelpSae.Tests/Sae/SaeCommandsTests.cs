using System.Text.Json.Nodes;
using RelpSae.Sae;
using RelpSae.Tests.Cli;

namespace RelpSae.Tests.Sae;

/// <summary>train-sae and eval-sae through the real command line, on the tarot model.</summary>
[Collection(nameof(ConsoleCollection))]
public class SaeCommandsTests
{
    private const string Hook = "blocks.2.hook_resid_post";

    /// <summary>A small train-sae command line; <paramref name="changes"/> ("--option value" or "--flag") replace or add options.</summary>
    internal static string[] Train(string data, string outDir, params string[] changes)
    {
        var options = new List<(string Key, string? Value)>
        {
            ("--model", CliHarness.Tarot), ("--hook", Hook), ("--tokens", "12800"), ("--batch", "64"), ("--context", "16"), ("--data", data),
            ("--out", outDir), ("--shuffle-rows", "512"), ("--eval-tokens", "300"), ("--l1", "1"), ("--lr", "1e-3"),
        };
        for (int i = 0; i < changes.Length; i++)
        {
            string? value = i + 1 < changes.Length && !changes[i + 1].StartsWith("--") ? changes[++i] : null;
            int at = options.FindIndex(o => o.Key == changes[value is null ? i : i - 1]);
            var option = (changes[value is null ? i : i - 1], value);
            if (at >= 0) options[at] = option; else options.Add(option);
        }
        return ["train-sae", .. options.SelectMany(o => o.Value is null ? new[] { o.Key } : [o.Key, o.Value])];
    }

    internal static void AssertUserError((int Code, string Out, string Error) result, string expected)
    {
        Assert.Equal(2, result.Code);
        var lines = result.Error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        Assert.Contains(expected, lines[0]);
    }

    [Fact]
    public void TrainsSavesALoadableSaeWithItsProvenanceAndMetrics()
    {
        var data = TarotText.WriteFile();
        var outDir = Path.Combine(Directory.CreateTempSubdirectory().FullName, "sae");
        var json = Path.Combine(outDir, "..", "metrics.json");
        var (code, output, error) = CliHarness.Run(Train(data, outDir, "--json", json));
        Assert.True(code == 0, error);
        Assert.Contains("trained 200 steps (12800 tokens)", output);

        var sae = SaeFiles.Load(outDir);
        Assert.Equal((128, 512), (sae.DIn, sae.DSae));
        Assert.Equal(Hook, sae.Config.HookName);
        Assert.Equal(16, sae.Config.ContextSize);
        Assert.True(sae.Config.PrependBos);
        Assert.Equal(Path.GetFullPath(data), sae.Config.DatasetPath);
        Assert.StartsWith("relp-sae train-sae --model ", sae.Config.Extra["command"]!.GetValue<string>());
        Assert.True(sae.Config.Extra["relp_sae_data"]!["exclude_bos_activations"]!.GetValue<bool>());
        Assert.Equal(512, SaeFiles.LoadLogSparsity(outDir, 512)!.Length);
        Assert.Equal(512, FeatureMeans.Load(outDir).Length);
        Assert.Equal(512, FeatureSummaries.Load(outDir, dSae: 512)!.Density.Count);

        var metrics = JsonNode.Parse(File.ReadAllText(json))!;
        Assert.True(metrics["explained_variance"]!.GetValue<double>() > 0.7, metrics.ToJsonString());
        Assert.True(metrics["ce_loss_recovered"]!.GetValue<double>() > 0.7, metrics.ToJsonString());

        // A second run into the same folder is refused, and a finished run (whose checkpoint the saved SAE
        // replaced) has nothing to resume; neither touches the SAE.
        var before = File.ReadAllBytes(Path.Combine(outDir, SaeFiles.WeightsFile));
        AssertUserError(CliHarness.Run(Train(data, outDir)), "already holds a training run");
        AssertUserError(CliHarness.Run(Train(data, outDir, "--resume")), "has finished (its SAE is saved there); nothing to resume");
        Assert.Equal(before, File.ReadAllBytes(Path.Combine(outDir, SaeFiles.WeightsFile)));
        Assert.False(File.Exists(Path.Combine(outDir, TrainSaeCheckpoint)));
    }

    [Fact]
    public void BadOptionsAreOneLineErrorsBeforeTraining()
    {
        var data = TarotText.WriteFile();
        var parent = Directory.CreateTempSubdirectory().FullName;
        var outDir = Path.Combine(parent, "sae");
        AssertUserError(CliHarness.Run(Train(data, outDir, "--hook", "blocks.9.hook_resid_post")), "no hook point \"blocks.9.hook_resid_post\"");
        AssertUserError(CliHarness.Run(Train(data, outDir, "--l1", "-0.5")), "--l1 must be >= 0");
        AssertUserError(CliHarness.Run(Train(data, outDir, "--tokens", "0")), "--tokens must be positive");
        AssertUserError(CliHarness.Run(Train(data, outDir, "--architecture", "gated")), "--architecture must be relu, jumprelu or topk");
        AssertUserError(CliHarness.Run(Train(data, outDir, "--context", "65")), "--context 65 is longer than the model's context of 64");
        AssertUserError(CliHarness.Run(Train(data, outDir, "--separator", " Towering")), "--separator \" Towering\" is 5 tokens");
        AssertUserError(CliHarness.Run(Train(Path.Combine(parent, "missing.txt"), outDir)), "missing.txt: file not found");
        AssertUserError(CliHarness.Run(Train(data, outDir, "--resume")), "--resume: no checkpoint.safetensors");
        Assert.False(File.Exists(Path.Combine(outDir, TrainSaeCheckpoint)));
    }

    private const string TrainSaeCheckpoint = RelpSae.Sae.SaeTrainingRun.CheckpointFile;

    [Fact]
    public void UnwritableOutputIsReportedBeforeTraining()
    {
        var file = Path.Combine(Directory.CreateTempSubdirectory().FullName, "a-file");
        File.WriteAllText(file, "not a folder");
        var result = CliHarness.Run(Train(TarotText.WriteFile(), Path.Combine(file, "sae"), "--tokens", "100000000"));
        AssertUserError(result, $"--out {Path.Combine(file, "sae")}: cannot write there");
        Assert.DoesNotContain("train-sae:", result.Error);
    }

    /// <summary>W_enc = [I, −I], W_dec = [I; −I], ReLU: relu(x) − relu(−x) = x exactly, so nothing is lost.</summary>
    private static (string Folder, SparseAutoencoder Sae) ExactSae(string hook)
    {
        int d = 128;
        var sae = new SparseAutoencoder(new SaeConfig { Architecture = SaeArchitecture.Standard, DIn = d, DSae = 2 * d, HookName = hook, ContextSize = 16 });
        for (int j = 0; j < d; j++)
        {
            sae.WEnc[j * 2 * d + j] = 1; sae.WEnc[j * 2 * d + d + j] = -1;
            sae.WDec[j * d + j] = 1; sae.WDec[(d + j) * d + j] = -1;
        }
        var dir = Directory.CreateTempSubdirectory().FullName;
        SaeFiles.Save(dir, sae);
        return (dir, sae);
    }

    /// <summary>At an attention or MLP output the reconstruction is patched into the pass from the tokens: the model's CE, and another with the output zeroed.</summary>
    [Theory]
    [InlineData("blocks.1.hook_attn_out")]
    [InlineData("blocks.1.hook_mlp_out")]
    public void EvalOfAnExactDictionaryAtABranchOutputRecoversEverything(string hook)
    {
        var (dir, _) = ExactSae(hook);
        var json = Path.Combine(dir, "eval.json");
        var (code, _, error) = CliHarness.Run("eval-sae", "--model", CliHarness.Tarot, "--sae", dir, "--data", TarotText.WriteFile(), "--tokens", "150", "--json", json);
        Assert.True(code == 0, error);
        var m = JsonNode.Parse(File.ReadAllText(json))!;
        Assert.Equal(1.0, m["ce_loss_recovered"]!.GetValue<double>(), 12);
        Assert.Equal(m["ce_clean"]!.GetValue<double>(), m["ce_sae"]!.GetValue<double>());
        Assert.True(Math.Abs(m["ce_zero"]!.GetValue<double>() - m["ce_clean"]!.GetValue<double>()) > 0.01, m.ToJsonString());   // the zeroed output does reach the logits
    }

    [Fact]
    public void EvalOfAnExactDictionaryRecoversEverything()
    {
        var (dir, sae) = ExactSae(Hook);
        int d = sae.DIn;
        var json = Path.Combine(dir, "eval.json");
        var (code, output, error) = CliHarness.Run("eval-sae", "--model", CliHarness.Tarot, "--sae", dir, "--data", TarotText.WriteFile(), "--tokens", "150", "--json", json);
        Assert.True(code == 0, error);
        Assert.Contains("CE loss recovered 1.0000", output);

        var m = JsonNode.Parse(File.ReadAllText(json))!;
        Assert.Equal(1.0, m["explained_variance"]!.GetValue<double>(), 12);
        Assert.Equal(1.0, m["ce_loss_recovered"]!.GetValue<double>(), 12);
        Assert.Equal(0.0, m["mse"]!.GetValue<double>());
        Assert.Equal(m["ce_clean"]!.GetValue<double>(), m["ce_sae"]!.GetValue<double>());
        Assert.True(m["ce_zero"]!.GetValue<double>() > m["ce_clean"]!.GetValue<double>() + 1);
        Assert.Equal(150, m["tokens"]!.GetValue<long>()); // ten whole contexts of 15 positions (BOS left out)

        // Each coordinate is positive or negative: features j and d + j share the tokens, and the means add up to E|x_j|.
        var summaries = FeatureSummaries.Load(dir, sae.DSae)!;
        var means = FeatureMeans.Load(dir);
        for (int j = 0; j < d; j++)
        {
            Assert.Equal(1.0, summaries.Density[j] + summaries.Density[d + j], 9);
            Assert.True(means[j] >= 0 && means[d + j] >= 0);
            if (summaries.Density[j] > 0) Assert.True(summaries.TopTokens[j][0].Activation > means[j]);
        }
        Assert.Equal(d, m["l0"]!.GetValue<double>(), 9);
    }
}
