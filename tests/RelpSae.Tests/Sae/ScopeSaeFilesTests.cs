using System.Text.Json.Nodes;
using RelpSae.Formats;
using RelpSae.Sae;
using RelpSae.Tests.Cli;

namespace RelpSae.Tests.Sae;

/// <summary>
/// Llama Scope folders and Gemma Scope 2 files: spliced into a model of their family from the command line, and
/// every problem with one a one-line error naming the file and the key or tensor.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public sealed class ScopeSaeFilesTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("relp-scope-").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private string LlamaScope(Action<JsonObject>? edit = null, int[]? encoderShape = null) =>
        ScopeSaeFixtures.LlamaScope(Path.Combine(dir, "Llama3_1-8B-Base-L1R-8x"), 8, 12, "blocks.1.hook_resid_post", edit, encoderShape);

    private string GemmaScope2(Func<FloatTensor, FloatTensor?>? change = null, FloatTensor? extra = null) =>
        ScopeSaeFixtures.GemmaScope2(Path.Combine(dir, "resid_post", "layer_1_width_16k_l0_small", CommunitySaeFiles.GemmaScope2File), 8, 12, change, extra);

    [Fact]
    public void ALlamaScopeFolderSplicesIntoALlamaModel()
    {
        string sae = ScopeSaeFixtures.LlamaScope(Path.Combine(dir, "Llama3_1-8B-Base-L1R-8x"), 32, 64, "blocks.1.hook_resid_post");
        var (code, output, error) = CliHarness.Run("attribute", "--model", TestPaths.Data("tiny-llama3-rope"), "--sae", sae, "--prompt-ids", "1,22,31,29,8", "--methods", "gradient,relp");
        Assert.True(code == 0, error);
        Assert.Contains("SAE       blocks.1.hook_resid_post, 64 features", output);
    }

    [Fact]
    public void AGemmaScope2FileSplicesIntoAGemma3Model()
    {
        string sae = ScopeSaeFixtures.GemmaScope2(Path.Combine(dir, "resid_post", "layer_1_width_16k_l0_small", CommunitySaeFiles.GemmaScope2File), 32, 64);
        var (code, output, error) = CliHarness.Run("attribute", "--model", TestPaths.Data("tiny-gemma3"), "--sae", sae, "--prompt-ids", "2,22,31,29,8", "--methods", "gradient,relp");
        Assert.True(code == 0, error);
        Assert.Contains("SAE       blocks.1.hook_resid_post, 64 features", output);
    }

    [Fact]
    public void AnSaeNarrowerThanTheModelIsRefusedNamingTheFolder()
    {
        string sae = LlamaScope();
        var (code, _, error) = CliHarness.Run("attribute", "--model", TestPaths.Data("tiny-llama3-rope"), "--sae", sae, "--prompt-ids", "1,22,31");
        Assert.Equal(2, code);
        Assert.Equal($"error: {sae}: the SAE's d_in is 8 but the model's width (hidden_size) is 32\n", error);
    }

    [Theory]
    [InlineData("jump_relu_threshold", "jump_relu_threshold is missing")]
    [InlineData("hook_point_in", "hook_point_in is missing")]
    [InlineData("dataset_average_activation_norm", "dataset_average_activation_norm is missing")]
    public void ALlamaScopeHyperparamMissingIsNamed(string key, string problem)
    {
        string folder = LlamaScope(h => h.Remove(key));
        var e = Assert.Throws<RelpSaeException>(() => SaeFiles.Load(folder));
        Assert.Equal($"{Path.Combine(folder, "hyperparams.json")}: {problem}", e.Message);
    }

    [Theory]
    [InlineData("act_fn", "\"topk\"", "act_fn is \"topk\"; Llama Scope SAEs load as JumpReLU (jumprelu)")]
    [InlineData("norm_activation", "\"token-wise\"", "norm_activation is \"token-wise\"; Llama Scope SAEs load with the dataset-wise norm (dataset-wise)")]
    [InlineData("apply_decoder_bias_to_pre_encoder", "true", "apply_decoder_bias_to_pre_encoder is true; Llama Scope SAEs load without subtracting decoder.bias from the input")]
    [InlineData("hook_point_out", "\"blocks.1.hook_mlp_out\"", "hook_point_out is \"blocks.1.hook_mlp_out\", not hook_point_in \"blocks.1.hook_resid_post\": a transcoder, not an SAE")]
    [InlineData("dataset_average_activation_norm", "{\"in\": 2.5, \"out\": 3.0}", "dataset_average_activation_norm.out is 3, not in (2.5): SAELens scales the output by in")]
    [InlineData("dataset_average_activation_norm", "{\"in\": 0}", "dataset_average_activation_norm.in is 0, not a positive number float32 holds (normal floats are 1.2e-38 to 3.4e38)")]
    [InlineData("jump_relu_threshold", "-0.5", "jump_relu_threshold is -0.5; a JumpReLU threshold must be >= 0")]
    [InlineData("d_model", "8.5", "d_model is 8.5, not a positive integer")]
    public void ALlamaScopeHyperparamSAELensWouldMisreadIsRefused(string key, string json, string problem)
    {
        string folder = LlamaScope(h => h[key] = JsonNode.Parse(json));
        var e = Assert.Throws<RelpSaeException>(() => SaeFiles.Load(folder));
        Assert.Equal($"{Path.Combine(folder, "hyperparams.json")}: {problem}", e.Message);
    }

    [Fact]
    public void ALlamaScopeEncoderOfAnotherWidthThanDModelIsNamed()
    {
        string folder = LlamaScope(encoderShape: [12, 9]);
        var e = Assert.Throws<RelpSaeException>(() => SaeFiles.Load(folder));
        Assert.Equal($"{Path.Combine(folder, "checkpoints", "final.safetensors")}: tensor 'encoder.weight' has shape [12, 9]; hyperparams.json's d_model 8 and d_sae 12 imply [12, 8]", e.Message);
    }

    [Fact]
    public void ALlamaScopeFolderWithoutItsCheckpointIsNamed()
    {
        string folder = LlamaScope();
        File.Delete(Path.Combine(folder, "checkpoints", "final.safetensors"));
        var e = Assert.Throws<RelpSaeException>(() => SaeFiles.Load(folder));
        Assert.Equal($"{Path.Combine(folder, "checkpoints", "final.safetensors")}: no such file", e.Message);
    }

    [Fact]
    public void AGemmaScope2FileWithATensorMissingMisshapenOrExtraIsNamed()
    {
        string Error(Func<FloatTensor, FloatTensor?>? change = null, FloatTensor? extra = null)
        {
            string file = GemmaScope2(change, extra);
            return Assert.Throws<RelpSaeException>(() => SaeFiles.Load(file)).Message.Replace(file, "FILE");
        }
        Assert.Equal("FILE: tensor 'threshold' is missing; w_enc [8, 12] implies [12]", Error(t => t.Name == "threshold" ? null : t));
        Assert.Equal("FILE: tensor 'w_dec' has shape [8, 12]; w_enc [8, 12] implies [12, 8]", Error(t => t.Name == "w_dec" ? t with { Shape = [8, 12] } : t));
        Assert.Equal("FILE: tensor 'affine_skip_connection' is not part of a Gemma Scope SAE (w_enc, w_dec, b_enc, b_dec, threshold)",
            Error(extra: new FloatTensor("affine_skip_connection", [8, 8], new float[64])));
    }

    [Fact]
    public void AGemmaScope2FileOutsideItsFoldersNamesNoHook()
    {
        string file = ScopeSaeFixtures.GemmaScope2(Path.Combine(dir, "elsewhere", CommunitySaeFiles.GemmaScope2File), 8, 12);
        Assert.Null(SaeFiles.Load(file).Config.HookName);
        // Named by its folder, the error says where the hook would come from (that folder has no cfg.json to name one).
        var (code, _, error) = CliHarness.Run("attribute", "--model", TestPaths.Data("tiny-gemma3"), "--sae", Path.GetDirectoryName(file)!, "--prompt-ids", "2,22");
        Assert.Equal((2, $"error: {Path.GetDirectoryName(file)}: the file does not say which hook the SAE reads, nor does its folder " +
            "(layer_N/ for Gemma Scope, resid_post/layer_N_…/ for Gemma Scope 2, resid_out_layerN/ for dictionary_learning)\n"), (code, error));
        Assert.Equal("blocks.4.hook_mlp_out",
            SaeFiles.Load(ScopeSaeFixtures.GemmaScope2(Path.Combine(dir, "mlp_out_all", "layer_4_width_16k_l0_big", CommunitySaeFiles.GemmaScope2File), 8, 12)).Config.HookName);
    }
}
