using System.Text.Json;
using RelpSae.Formats;
using RelpSae.Sae;
using RelpSae.Tests.Attribution;

namespace RelpSae.Tests.Cli;

/// <summary>attribute --sae takes a transcoder's file: its features are attributed at its MLP, and bad hooks are refused in one line.</summary>
[Collection(nameof(ConsoleCollection))]
public class TranscoderCommandTests
{
    /// <summary>A circuit-tracer set of one layer in a temp folder: config.yaml naming the hooks and layer_N.safetensors (W_enc [d_sae, d]).</summary>
    internal static string CircuitTracerLayer(int d, int layer, string inputHook, string outputHook, bool skip)
    {
        var t = TranscoderSpliceTests.RandomTranscoder(d, SaeArchitecture.JumpRelu, inputHook, outputHook, skip);
        var sae = t.Dictionary;
        var dir = Directory.CreateTempSubdirectory("relp-tc-cli-").FullName;
        File.WriteAllText(Path.Combine(dir, TranscoderFiles.CircuitTracerConfig), $"model_name: \"test\"\nfeature_input_hook: \"{inputHook}\"\nfeature_output_hook: \"{outputHook}\"\n");
        var tensors = new List<FloatTensor>
        {
            new("W_enc", [sae.DSae, d], CommunitySaeFiles.Transpose(sae.WEnc, d, sae.DSae)), new("W_dec", [sae.DSae, d], sae.WDec),
            new("b_enc", [sae.DSae], sae.BEnc), new("b_dec", [d], sae.BDec), new(TranscoderFiles.ThresholdTensor, [sae.DSae], sae.Threshold),
        };
        if (t.Skip is { } wSkip) tensors.Add(new("W_skip", [d, d], wSkip));
        string path = Path.Combine(dir, $"layer_{layer}.safetensors");
        SafetensorsWriter.Write(path, tensors);
        return path;
    }

    [Theory]
    [InlineData("tiny-gemma2", "mlp.hook_in", "hook_mlp_out", false)]
    [InlineData("stories260K-llama", "hook_resid_mid", "mlp.hook_out", true)]
    [InlineData("tiny-gemma3", "mlp.hook_in", "mlp.hook_out", true)]
    public void AttributeScoresATranscodersFeaturesAndIgIsComplete(string name, string inputHook, string outputHook, bool skip)
    {
        var transcoder = CircuitTracerLayer(Families.Named(name).Width, 1, inputHook, outputHook, skip);
        var json = Path.Combine(Directory.CreateTempSubdirectory().FullName, "a.json");
        var (code, output, error) = CliHarness.Run("attribute", "--model", TestPaths.Data(name), "--sae", transcoder, "--prompt-ids", "1,22,31,29,8",
            "--corrupt-ids", "1,22,30,29,17", "--target", "40", "--foil", "41", "--methods", "gradient,ig", "--ig-steps", "64", "--json", json);
        Assert.True(code == 0, error);
        Assert.Contains($"SAE       blocks.1.{inputHook} → blocks.1.{outputHook} (transcoder)", output);
        var root = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        double delta = root.GetProperty("full_patch_delta").GetDouble();
        Assert.NotEqual(0, delta);
        var ig = root.GetProperty("methods").EnumerateArray().Single(m => m.GetProperty("name").GetString() == "ig");
        Assert.Equal(delta, ig.GetProperty("total").GetDouble() + ig.GetProperty("error_node").GetDouble(), 0.02 * Math.Max(1, Math.Abs(delta)));
    }

    [Fact]
    public void EvaluateMeasuresTheFaithfulnessOfATranscodersFeatures()
    {
        var prompts = Path.Combine(Directory.CreateTempSubdirectory().FullName, "prompts.jsonl");
        File.WriteAllText(prompts, "{\"prompt_ids\": [1, 22, 31, 29, 8], \"corrupt_ids\": [1, 22, 30, 29, 8], \"target\": 40, \"foil\": 41}\n");
        var output = Path.Combine(Directory.CreateTempSubdirectory().FullName, "features");
        var (code, _, error) = CliHarness.Run("evaluate", "--model", TestPaths.Data("tiny-neox"), "--sae", CircuitTracerLayer(32, 1, "ln2.hook_normalized", "hook_mlp_out", skip: true),
            "--prompts", prompts, "--methods", "gradient,relp", "--out", output);
        Assert.True(code == 0, error);
        var settings = JsonDocument.Parse(File.ReadAllText(Path.Combine(output, "evaluation_settings.json"))).RootElement;
        Assert.Equal("blocks.1.hook_mlp_out", settings.GetProperty("hook").GetString());
        Assert.True(File.Exists(Path.Combine(output, "results.json")));
    }

    [Fact]
    public void ATranscoderNamingAHookTheModelLacksIsRefusedInOneLine()
    {
        var transcoder = CircuitTracerLayer(32, 0, "mlp.hook_nope", "hook_mlp_out", skip: false);
        var (code, _, error) = CliHarness.Run("attribute", "--model", TestPaths.Data("tiny-gemma2"), "--sae", transcoder, "--prompt-ids", "1,22,31");
        Assert.Equal(2, code);
        Assert.StartsWith($"error: {transcoder}: the Gemma2ForCausalLM model has no hook point \"blocks.0.mlp.hook_nope\"", error);
        Assert.Single(error.TrimEnd().Split('\n'));
    }

    [Fact]
    public void ATranscodersFileIsNotLoadedAsAnSaeOfOneHook()
    {
        var transcoder = CircuitTracerLayer(8, 2, "ln2.hook_normalized", "hook_mlp_out", skip: false);
        var e = Assert.Throws<RelpSaeException>(() => SaeFiles.Load(transcoder));
        Assert.Equal($"{transcoder}: a transcoder (it reads blocks.2.ln2.hook_normalized and writes blocks.2.hook_mlp_out), not an SAE of one hook", e.Message);
        // Gemma Scope's transcoders share their SAEs' params.npz: under layer_3/ one was read as an SAE of blocks.3.hook_resid_post.
        string folder = Path.Combine(Directory.CreateTempSubdirectory().FullName, "gemma-scope-2b-pt-transcoders", "layer_3", "width_16k", "average_l0_54");
        Directory.CreateDirectory(folder);
        string npz = Path.Combine(folder, "params.npz");
        File.Copy(TestPaths.Data("community-saes", "layer_3", "params.npz"), npz);
        Assert.Contains("a transcoder (it reads blocks.3.ln2.hook_normalized and writes blocks.3.hook_mlp_out)", Assert.Throws<RelpSaeException>(() => SaeFiles.Load(npz)).Message);
    }
}
