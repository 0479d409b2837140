using System.Text.Json;
using RelpSae.Formats;
using RelpSae.Model;
using RelpSae.Sae;
using RelpSae.Tests.Attribution;
using RelpSae.Tests.Model;

namespace RelpSae.Tests.Sae;

/// <summary>
/// circuit-tracer's per-layer transcoders and Gemma Scope's transcoders load into <see cref="Transcoder"/> and compute
/// what their own code computes (scripts/transcoder_formats_reference.py); bad files and hooks are refused in one line
/// naming the file and the hook.
/// </summary>
public class TranscoderFilesTests
{
    private static string Data(string name) => TestPaths.Data("transcoders", name);

    private static void AssertMatches(Transcoder transcoder, string layer)
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(Data("expected.json")));
        float[] Flat(JsonElement e) => e.EnumerateArray().SelectMany(r => r.EnumerateArray().Select(v => v.GetSingle())).ToArray();
        var x = Flat(doc.RootElement.GetProperty("x"));
        var expected = doc.RootElement.GetProperty(layer);
        var f = transcoder.Encode(x);
        var y = transcoder.Output(f, x);
        Assert.Contains(f, v => v == 0);
        Assert.Contains(f, v => v != 0);
        foreach (var (want, got) in Flat(expected.GetProperty("f")).Zip(f)) Assert.Equal(want, got, 1e-4);
        foreach (var (want, got) in Flat(expected.GetProperty("y")).Zip(y)) Assert.Equal(want, got, 1e-3);
    }

    [Fact]
    public void CircuitTracerLayersReadTheirHooksFromTheSetsConfig()
    {
        Assert.True(TranscoderFiles.IsTranscoder(Data("layer_0.safetensors")));
        var jump = TranscoderFiles.Load(Data("layer_0.safetensors"));
        Assert.Equal(("blocks.0.mlp.hook_in", "blocks.0.mlp.hook_out"), (jump.InputHook, jump.OutputHook));
        Assert.Equal((SaeArchitecture.JumpRelu, 8, 12), (jump.Dictionary.Config.Architecture, jump.DIn, jump.DSae));
        Assert.Null(jump.Skip);
        AssertMatches(jump, "layer_0");
    }

    [Fact]
    public void AnOlderCircuitTracerLayerWithItsDecoderTransposedAndASkipConnectionLoads()
    {
        var skip = TranscoderFiles.Load(Data("layer_1.safetensors"));
        Assert.Equal(("blocks.1.mlp.hook_in", "blocks.1.mlp.hook_out"), (skip.InputHook, skip.OutputHook));
        Assert.Equal(SaeArchitecture.Standard, skip.Dictionary.Config.Architecture);
        Assert.NotNull(skip.Skip);
        AssertMatches(skip, "layer_1");
    }

    [Fact]
    public void AGemmaScopeTranscoderReadsTheNormalisedMlpInputAndWritesHookMlpOut()
    {
        var dir = Directory.CreateTempSubdirectory("relp-tc-").FullName;
        string folder = Path.Combine(dir, "gemma-scope-2b-pt-transcoders", "layer_3", "width_16k", "average_l0_54");
        Directory.CreateDirectory(folder);
        string npz = Path.Combine(folder, "params.npz");
        File.Copy(TestPaths.Data("community-saes", "layer_3", "params.npz"), npz);
        Assert.True(TranscoderFiles.IsTranscoder(npz));
        Assert.False(TranscoderFiles.IsTranscoder(TestPaths.Data("community-saes", "layer_3", "params.npz")));
        var transcoder = TranscoderFiles.Load(npz);
        Assert.Equal(("blocks.3.ln2.hook_normalized", "blocks.3.hook_mlp_out"), (transcoder.InputHook, transcoder.OutputHook));
        Assert.Equal((SaeArchitecture.JumpRelu, false), (transcoder.Dictionary.Config.Architecture, transcoder.Dictionary.Config.ApplyBDecToInput));
        Assert.Equal(CommunitySaeFiles.LoadGemmaScope(npz).WEnc, transcoder.Dictionary.WEnc);
    }

    /// <summary>A copy of layer_0 in a temp folder with its own config.yaml (and, if given, other tensors).</summary>
    private static string Layer(string config, string name = "layer_0.safetensors", Func<Dictionary<string, FloatTensor>, IEnumerable<FloatTensor>>? tensors = null)
    {
        var dir = Directory.CreateTempSubdirectory("relp-tc-").FullName;
        File.WriteAllText(Path.Combine(dir, TranscoderFiles.CircuitTracerConfig), config);
        string path = Path.Combine(dir, name);
        using (var source = SafetensorsFile.Open(Data("layer_0.safetensors")))
        {
            var all = source.ReadAll();
            SafetensorsWriter.Write(path, tensors is null ? all.Values : tensors(all));
        }
        return path;
    }

    private const string MlpConfig = "feature_input_hook: mlp.hook_in\nfeature_output_hook: \"hook_mlp_out\"\n";

    public static TheoryData<string, string> BadHooks => new()
    {
        { "feature_input_hook: mlp.hook_nope\nfeature_output_hook: hook_mlp_out\n", "no hook point \"blocks.0.mlp.hook_nope\"" },
        { "feature_input_hook: mlp.hook_in\nfeature_output_hook: hook_resid_post\n", "the transcoder writes blocks.0.hook_resid_post; a transcoder stands in for an MLP" },
        { "feature_input_hook: hook_resid_pre\nfeature_output_hook: hook_mlp_out\n", "the transcoder reads blocks.0.hook_resid_pre but writes blocks.0.hook_mlp_out" },
        { MlpConfig, "the transcoder is 8 wide but blocks.0.mlp.hook_in holds 16 values a position (n_embd)" },
    };

    [Theory]
    [MemberData(nameof(BadHooks))]
    public void HooksTheModelLacksOrOfAnotherWidthAreRefusedNamingTheFile(string config, string message)
    {
        string path = Layer(config);
        var transcoder = TranscoderFiles.Load(path);
        var e = Assert.Throws<RelpSaeException>(() => transcoder.Hooks(TinyModels.Create().Facts, path));
        Assert.StartsWith($"{path}: ", e.Message);
        Assert.Contains(message, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    public static TheoryData<string, string> BadFiles => new()
    {
        { "no-output", "no feature_output_hook" },
        { "no-layer", "does not say which layer" },
        { "decoder", "tensor 'W_dec' has shape [5, 8]; b_enc [12] and b_dec [8] imply [12, 8] or [8, 12]" },
        { "extra", "unexpected tensor 'log_thresholds'" },
        { "skip", "tensor 'W_skip' has shape [8, 12]; b_enc [12] and b_dec [8] imply [8, 8]" },
    };

    [Theory]
    [MemberData(nameof(BadFiles))]
    public void MalformedCircuitTracerFilesAreRefusedInOneLine(string fault, string message)
    {
        string path = fault switch
        {
            "no-output" => Layer("feature_input_hook: mlp.hook_in\n"),
            "no-layer" => Layer(MlpConfig, name: "transcoder.safetensors"),
            "decoder" => Layer(MlpConfig, tensors: t => [.. t.Values.Where(v => v.Name != "W_dec"), new FloatTensor("W_dec", [5, 8], new float[40])]),
            "extra" => Layer(MlpConfig, tensors: t => [.. t.Values, new FloatTensor("log_thresholds", [12], new float[12])]),
            _ => Layer(MlpConfig, tensors: t => [.. t.Values, new FloatTensor("W_skip", [8, 12], new float[96])]),
        };
        var e = Assert.Throws<RelpSaeException>(() => TranscoderFiles.Load(path));
        Assert.Contains(message, e.Message);
        Assert.Contains(fault == "no-output" ? TranscoderFiles.CircuitTracerConfig : path, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void TheConfigsTopLevelScalarsAreReadBareQuotedOrCommented()
    {
        var keys = TranscoderFiles.TopLevelYaml("a: 1 # one\nb: \"two # not a comment\"\nc: 'three'\n  d: nested\n- e: listed\ntranscoders:\n  - layer: 0\r\n");
        Assert.Equal(new Dictionary<string, string> { ["a"] = "1", ["b"] = "two # not a comment", ["c"] = "three", ["transcoders"] = "" }, keys);
    }

    /// <summary>
    /// circuit-tracer's layer <paramref name="layer"/> rewritten as a SAELens transcoder folder (W_enc [d_in, d_sae], W_dec
    /// [d_sae, d_out]), its cfg.json's fields as given (architecture first), hooks in the metadata block.
    /// </summary>
    private static string SaeLensFolder(int layer, string fields, Func<Dictionary<string, FloatTensor>, IEnumerable<FloatTensor>>? change = null)
    {
        var circuit = TranscoderFiles.Load(Data($"layer_{layer}.safetensors"));
        var sae = circuit.Dictionary;
        var tensors = new Dictionary<string, FloatTensor>
        {
            ["W_enc"] = new("W_enc", [8, 12], sae.WEnc), ["W_dec"] = new("W_dec", [12, 8], sae.WDec),
            ["b_enc"] = new("b_enc", [12], sae.BEnc), ["b_dec"] = new("b_dec", [8], sae.BDec),
        };
        if (sae.Threshold.Length > 0) tensors["threshold"] = new("threshold", [12], sae.Threshold);
        if (circuit.Skip is { } skip) tensors["W_skip"] = new("W_skip", [8, 8], skip);
        var dir = Directory.CreateTempSubdirectory("relp-tc-saelens-").FullName;
        SafetensorsWriter.Write(Path.Combine(dir, SaeFiles.WeightsFile), change is null ? tensors.Values : change(tensors));
        File.WriteAllText(Path.Combine(dir, SaeFiles.ConfigFile), "{" + fields + """
            , "d_in": 8, "d_sae": 12, "apply_b_dec_to_input": false, "normalize_activations": "none",
              "metadata": {"hook_name": "blocks.1.ln2.hook_normalized", "hook_name_out": "blocks.1.hook_mlp_out", "sae_lens_version": "6.20.0"}}
            """);
        return dir;
    }

    [Fact]
    public void SaeLensTranscoderFoldersLoadWithTheirSkipConnectionOrThreshold()
    {
        string skip = SaeLensFolder(1, "\"architecture\": \"skip_transcoder\", \"d_out\": 8");
        Assert.True(TranscoderFiles.IsTranscoder(skip));
        var transcoder = TranscoderFiles.Load(Path.Combine(skip, SaeFiles.ConfigFile));
        Assert.Equal(("blocks.1.ln2.hook_normalized", "blocks.1.hook_mlp_out"), (transcoder.InputHook, transcoder.OutputHook));
        AssertMatches(transcoder, "layer_1");
        var jump = TranscoderFiles.Load(SaeLensFolder(0, "\"architecture\": \"jumprelu_transcoder\", \"d_out\": 8"));
        Assert.Equal(SaeArchitecture.JumpRelu, jump.Dictionary.Config.Architecture);
        AssertMatches(jump, "layer_0");
        Assert.Contains("a transcoder (it reads blocks.1.ln2.hook_normalized and writes blocks.1.hook_mlp_out)",
            Assert.Throws<RelpSaeException>(() => SaeFiles.Load(skip)).Message);
        // A top-k transcoder keeps each row's k largest pre-activations.
        var topK = TranscoderFiles.Load(SaeLensFolder(1, "\"architecture\": \"transcoder\", \"activation_fn\": \"topk\", \"k\": 3, \"d_out\": 8",
            t => t.Values.Where(v => v.Name != "W_skip")));
        Assert.Equal((SaeArchitecture.TopK, 3), (topK.Dictionary.Config.Architecture, topK.Dictionary.Config.K));
        var f = topK.Encode(new float[] { 1, -2, 0.5f, 3, -1, 2, 0, 1.5f });
        Assert.Equal(3, f.Count(v => v != 0));
    }

    [Theory]
    [InlineData(SaeArchitecture.Standard, "transcoder")]
    [InlineData(SaeArchitecture.JumpRelu, "jumprelu_transcoder")]
    [InlineData(SaeArchitecture.TopK, "transcoder")]
    public void ASavedTranscoderLoadsBackAsTheSameTranscoder(SaeArchitecture architecture, string written)
    {
        var saved = TranscoderSpliceTests.RandomTranscoder(8, architecture, "blocks.1.ln2.hook_normalized", "blocks.1.hook_mlp_out", skip: false);
        var dir = Directory.CreateTempSubdirectory("relp-tc-save-").FullName;
        TranscoderFiles.Save(dir, saved, [.. Enumerable.Range(0, saved.DSae).Select(i => -1f - i)]);

        var cfg = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(dir, SaeFiles.ConfigFile)))!;
        Assert.Equal((written, 8), (cfg["architecture"]!.GetValue<string>(), cfg["d_out"]!.GetValue<int>()));
        Assert.Equal("blocks.1.hook_mlp_out", cfg["metadata"]!["hook_name_out"]!.GetValue<string>());
        Assert.True(TranscoderFiles.IsTranscoder(dir));
        var loaded = TranscoderFiles.Load(dir);
        Assert.Equal((saved.InputHook, saved.OutputHook), (loaded.InputHook, loaded.OutputHook));
        Assert.Equal((architecture, architecture == SaeArchitecture.TopK ? 4 : 0, false), (loaded.Dictionary.Config.Architecture, loaded.Dictionary.Config.K, loaded.Dictionary.Config.ApplyBDecToInput));
        for (int p = 0; p < saved.Dictionary.Parameters.Length; p++) Assert.Equal(saved.Dictionary.Parameters[p], loaded.Dictionary.Parameters[p]);
        Assert.Equal(-3f, SaeFiles.LoadLogSparsity(dir, saved.DSae)![2]);
    }

    [Theory]
    [InlineData("\"architecture\": \"transcoder\", \"d_out\": 6", "cfg.json: d_out 6; only transcoders whose output is as wide as their input (d_in 8, an MLP's) are supported")]
    [InlineData("\"architecture\": \"crosscoder_transcoder\", \"d_out\": 8", "cfg.json: transcoder architecture 'crosscoder_transcoder' is not supported (transcoder, skip_transcoder or jumprelu_transcoder)")]
    [InlineData("\"architecture\": \"skip_transcoder\", \"d_out\": 8", "sae_weights.safetensors: missing tensor 'W_skip' (a skip_transcoder's [d_out, d_in])")]
    public void MalformedSaeLensTranscodersAreRefusedNamingTheFile(string fields, string message)
    {
        string folder = SaeLensFolder(0, fields, t => t.Values.Where(v => v.Name != "threshold"));
        var e = Assert.Throws<RelpSaeException>(() => TranscoderFiles.Load(folder));
        Assert.EndsWith(message, e.Message);
        Assert.StartsWith(folder, e.Message);
    }

    [Fact]
    public void ATranscoderFileNamedByARelativePathIsTakenAsItIsNotAsAHubName()
    {
        // sets/tc/layer_0.safetensors has the shape of an org/repo/path Hub name; the file on disk wins, as an SAE's does.
        string root = "relp-tc-" + Guid.NewGuid().ToString("N")[..8];
        string folder = Path.Combine(root, "tc");
        Directory.CreateDirectory(folder);
        try
        {
            File.Copy(Data("layer_0.safetensors"), Path.Combine(folder, "layer_0.safetensors"));
            File.Copy(Data(TranscoderFiles.CircuitTracerConfig), Path.Combine(folder, TranscoderFiles.CircuitTracerConfig));
            string relative = $"{root}/tc/layer_0.safetensors";
            var offline = new RelpSae.Hub.HubSettings(Directory.CreateTempSubdirectory().FullName, "http://127.0.0.1:9", Offline: true);
            Assert.Equal(relative, RelpSae.Hub.LocalOrHub.Sae(relative, offline));
        }
        finally { Directory.Delete(root, recursive: true); }
    }
}
