using System.Text.Json;
using RelpSae.Formats;
using RelpSae.Model;
using RelpSae.Sae;
using RelpSae.Tests.Attribution;

namespace RelpSae.Tests.Cli;

/// <summary>
/// attribute --sae takes a cross-layer transcoder's folder: every layer's features are scored with gradient and the RelP
/// presets, named L{layer}/#{index}; integrated gradients, a mean baseline, and the folder where an SAE of one hook is
/// loaded are refused in one line.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class CrossLayerCommandTests
{
    /// <summary>A random cross-layer transcoder for the fixture, written in circuit-tracer's layout (W_enc_i [d_sae, d], W_dec_i [d_sae, layers − i, d]).</summary>
    internal static string CltFolder(string fixture, HookKind input, HookKind output)
    {
        var model = Families.Named(fixture).Load();
        var clt = CrossLayerAttributionTests.RandomClt(model.Facts, SaeArchitecture.JumpRelu, input, output);
        var dir = Directory.CreateTempSubdirectory("relp-clt-cli-").FullName;
        File.WriteAllText(Path.Combine(dir, TranscoderFiles.CircuitTracerConfig),
            $"model_kind: cross_layer_transcoder\nfeature_input_hook: {clt.InputHook}\nfeature_output_hook: {clt.OutputHook}\n");
        int n = clt.DSae, d = clt.DModel, layers = clt.Layers;
        for (int l = 0; l < layers; l++)
        {
            var e = clt.Encoders[l];
            SafetensorsWriter.Write(Path.Combine(dir, $"W_enc_{l}.safetensors"),
            [
                new($"W_enc_{l}", [n, d], CommunitySaeFiles.Transpose(e.WEnc, d, n)), new($"b_enc_{l}", [n], e.BEnc),
                new($"b_dec_{l}", [d], e.BDec), new($"threshold_{l}", [n], e.Threshold),
            ]);
            var w = new float[n * (layers - l) * d];
            for (int f = 0; f < n; f++)
                for (int k = 0; k < layers - l; k++)
                    clt.Decoder(l, l + k).AsSpan(f * d, d).CopyTo(w.AsSpan((f * (layers - l) + k) * d, d));
            SafetensorsWriter.Write(Path.Combine(dir, $"W_dec_{l}.safetensors"), [new($"W_dec_{l}", [n, layers - l, d], w)]);
        }
        return dir;
    }

    [Fact]
    public void AttributeScoresEveryLayersFeaturesByGradientAndRelP()
    {
        var clt = CltFolder("tarot-gpt2", HookKind.Ln2Normalized, HookKind.MlpOut);
        var json = Path.Combine(Directory.CreateTempSubdirectory().FullName, "a.json");
        var (code, output, error) = CliHarness.Run("attribute", "--model", TestPaths.Data("tarot-gpt2"), "--sae", clt, "--prompt-ids", "1,22,31,29,8",
            "--corrupt-ids", "1,22,30,29,8", "--target", "40", "--foil", "41", "--methods", "gradient,relp,relp-ah", "--json", json);
        Assert.True(code == 0, error);
        Assert.Contains("CLT       ln2.hook_normalized → hook_mlp_out (cross-layer transcoder), 4 layers × 384 features", output);
        Assert.Matches(@"│ L\d/#\d+ ", output);
        var root = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.NotEqual(0, root.GetProperty("full_patch_delta").GetDouble());
        Assert.Equal(["gradient", "relp", "relp-ah"], root.GetProperty("methods").EnumerateArray().Select(m => m.GetProperty("name").GetString()!));
        var top = root.GetProperty("methods")[0].GetProperty("top")[0];
        Assert.InRange(top.GetProperty("layer").GetInt32(), 0, 3);
        Assert.NotEqual(0, top.GetProperty("score").GetDouble());
    }

    [Theory]
    [InlineData("ig", "", "error: method ig is not supported for a cross-layer transcoder: use gradient, relp, relp-ah, attnlrp or a rule list")]
    [InlineData("gradient", "mean", "a cross-layer transcoder has no feature means for a mean baseline: use the zero or corrupt baseline")]
    public void WhatACrossLayerTranscoderCannotDoIsRefusedInOneLine(string methods, string baseline, string message)
    {
        var clt = CltFolder("tarot-gpt2", HookKind.Ln2Normalized, HookKind.MlpOut);
        string[] args = ["attribute", "--model", TestPaths.Data("tarot-gpt2"), "--sae", clt, "--prompt-ids", "1,22,31,29,8", "--methods", methods,
            .. baseline.Length > 0 ? new[] { "--baseline", baseline } : []];
        var (code, _, error) = CliHarness.Run(args);
        Assert.Equal(2, code);
        Assert.Contains(message, error);
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void InterventionsOnACrossLayerTranscoderAreRefusedInOneLine()
    {
        var clt = CltFolder("tarot-gpt2", HookKind.Ln2Normalized, HookKind.MlpOut);
        var (code, _, error) = CliHarness.Run("attribute", "--model", TestPaths.Data("tarot-gpt2"), "--sae", clt, "--prompt-ids", "1,22,31,29,8",
            "--ablate", "blocks.1.hook_mlp_out:3");
        Assert.Equal(2, code);
        Assert.Equal("error: --steer, --clamp and --ablate go with an SAE or a single-layer transcoder; a cross-layer transcoder's features cannot be changed yet\n", error);
    }

    [Fact]
    public void ACrossLayerTranscoderWhereAnSaeOfOneHookIsLoadedIsRefused()
    {
        var clt = Sae.CrossLayerTranscoderFilesTests.Data("jumprelu");
        var e = Assert.Throws<RelpSaeException>(() => SaeFiles.Load(clt));
        Assert.Equal($"{clt}: a cross-layer transcoder (circuit-tracer's W_enc_i / W_dec_i files), not an SAE of one hook", e.Message);

        var prompts = Path.Combine(Directory.CreateTempSubdirectory().FullName, "prompts.jsonl");
        File.WriteAllText(prompts, "{\"prompt_ids\": [1, 22, 31, 29, 8], \"target\": 40}\n");
        var (code, _, error) = CliHarness.Run("evaluate", "--model", TestPaths.Data("tarot-gpt2"), "--sae", clt, "--prompts", prompts,
            "--methods", "gradient", "--out", Path.Combine(Directory.CreateTempSubdirectory().FullName, "out"));
        Assert.Equal(2, code);
        Assert.Equal($"error: {clt}: a cross-layer transcoder (circuit-tracer's W_enc_i / W_dec_i files), not an SAE of one hook", error.Trim());
    }
}
