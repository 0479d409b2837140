using System.Text.Json.Nodes;
using RelpSae.Formats;
using RelpSae.Model;
using RelpSae.Tests.Formats;

namespace RelpSae.Tests.Model;

/// <summary>
/// Gemma 3's config.json read as Hugging Face's Gemma3TextConfig reads it (its defaults, the layer types from
/// sliding_window_pattern), its multimodal checkpoints' language model, and the settings it refuses in one line.
/// </summary>
public class Gemma3ConfigTests
{
    private static readonly int[] Prompt = [1, 5, 9, 33, 2, 60, 17, 40];

    private static float[] Logits(string dir)
    {
        using var run = LanguageModels.Load(dir).Forward(Prompt, 1, new RunOptions { Logits = LogitRows.All });
        return run.Logits;
    }

    private static RelpSaeException Refused(string dir)
    {
        var e = Assert.Throws<RelpSaeException>(() => LanguageModels.Load(dir));
        Assert.DoesNotContain('\n', e.Message);
        return e;
    }

    /// <summary>
    /// tiny-gemma3 as Gemma3ForConditionalGeneration writes it: the text config under text_config, the language model's
    /// tensors under language_model.model., beside a vision tower and a projector.
    /// </summary>
    private static string AsMultimodal(bool nested = false)
    {
        var dir = Directory.CreateTempSubdirectory("relp-gemma3-mm-").FullName;
        var text = JsonNode.Parse(File.ReadAllText(TestPaths.Data("tiny-gemma3", "config.json")))!.AsObject();
        text.Remove("architectures");
        var config = new JsonObject
        {
            ["architectures"] = new JsonArray("Gemma3ForConditionalGeneration"), ["model_type"] = "gemma3",
            ["text_config"] = text, ["vision_config"] = new JsonObject { ["model_type"] = "siglip_vision_model", ["hidden_size"] = 8 },
            ["mm_tokens_per_image"] = 4,
        };
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        Dictionary<string, FloatTensor> all;
        using (var file = SafetensorsFile.Open(TestPaths.Data("tiny-gemma3", "model.safetensors"))) all = file.ReadAll();
        SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"),
        [
            .. all.Values.Select(t => t with { Name = nested ? "model.language_model." + t.Name["model.".Length..] : "language_model." + t.Name }),
            new FloatTensor((nested ? "model." : "") + "vision_tower.vision_model.embeddings.patch_embedding.weight", [8, 3], new float[24]),
            new FloatTensor((nested ? "model." : "") + "multi_modal_projector.mm_input_projection_weight", [8, 32], new float[256]),
        ]);
        return dir;
    }

    [Theory]
    [InlineData(false)]   // language_model.model.*, as transformers before 4.52 saved it
    [InlineData(true)]    // model.language_model.*, as later ones save it
    public void AMultimodalCheckpointRunsItsLanguageModelAsTheTextModelDoes(bool nested)
    {
        var dir = AsMultimodal(nested);
        Assert.Equal("Gemma3ForConditionalGeneration", LanguageModels.Load(dir).Facts.Architecture);
        Assert.Equal(Logits(TestPaths.Data("tiny-gemma3")), Logits(dir));
    }

    [Fact]
    public void AMultimodalTextConfigTakesGemma3TextConfigsDefaults()
    {
        var dir = AsMultimodal();
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "config.json")))!;
        config["text_config"]!.AsObject().Remove("vocab_size");
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        Assert.EndsWith("config.json implies [262208, 32]", Refused(dir).Message);
    }

    [Fact]
    public void AStrayTensorBesideTheVisionTowerIsStillRefused()
    {
        var dir = AsMultimodal();
        Dictionary<string, FloatTensor> all;
        var weights = Path.Combine(dir, "model.safetensors");
        using (var file = SafetensorsFile.Open(weights)) all = file.ReadAll();
        SafetensorsWriter.Write(weights, [.. all.Values, new FloatTensor("language_model.model.extra.weight", [2], [1, 2])]);
        Assert.Contains("tensor 'language_model.model.extra.weight' is not part of the model", Refused(dir).Message);
    }

    [Theory]
    [InlineData(3, true)]
    [InlineData(2, false)]
    public void WithoutLayerTypesEverySlidingWindowPatternthLayerIsGlobal(int pattern, bool asLayerTypes)
    {
        var dir = ConfigValueTests.WithConfigValue("tiny-gemma3", "layer_types", null!);
        dir = ConfigValueTests.WithConfigValue(dir, "sliding_window_pattern", JsonValue.Create(pattern));
        Assert.Equal(asLayerTypes, Logits(TestPaths.Data("tiny-gemma3")).SequenceEqual(Logits(dir)));
    }

    [Fact]
    public void TheSlidingWindowDoesNotCapTheContext() =>
        Assert.Equal(64, LanguageModels.Load(TestPaths.Data("tiny-gemma3")).Facts.Context);

    public static TheoryData<string, string, string> RefusedSettings => new()
    {
        { "layer_types", """["sliding_attention", "full_attention"]""", "layer_types lists 2 layers, num_hidden_layers is 3" },
        { "layer_types", """["sliding_attention", "chunked_attention", "full_attention"]""", "layer_types holds 'chunked_attention'; the layer types are sliding_attention and full_attention" },
        { "layer_types", """["sliding_attention", 3, "full_attention"]""", "layer_types is [\"sliding_attention\",3,\"full_attention\"], not an array of strings" },
        { "rope_scaling", """{"rope_type": "llama3", "factor": 8.0}""", "rope_scaling type 'llama3' is not supported; Gemma 3 runs linear scaling only" },
        { "rope_scaling", """{"rope_type": "linear", "factor": 1e39}""", "rope_scaling.factor is 1e39, not a positive number float32 holds" },
        { "rope_parameters", """{"full_attention": {"rope_type": "default", "rope_theta": 10000.0}, "sliding_attention": {"rope_type": "linear", "factor": 2.0, "rope_theta": 100.0}}""",
            "rope_parameters.sliding_attention.rope_type is 'linear'; the sliding layers' rotation must be unscaled" },
        { "rope_parameters", """{"full_attention": {"rope_type": "default", "rope_theta": 10000.0}, "rope_theta": 5.0}""",
            "rope_parameters.rope_theta is set beside per-layer-type objects; expected full_attention and sliding_attention only" },
        { "use_bidirectional_attention", "true", "use_bidirectional_attention is true; only causal attention is supported" },
    };

    [Theory, MemberData(nameof(RefusedSettings))]
    public void ASettingThatDoesNotRunIsRefusedNamingTheKey(string key, string value, string expected) =>
        Assert.Contains("config.json: " + expected, Refused(ConfigValueTests.WithConfigValue("tiny-gemma3", key, JsonNode.Parse(value)!)).Message);
}
