using System.Text.Json.Nodes;
using RelpSae.Model;

namespace RelpSae.Tests.Formats;

/// <summary>
/// Every family's config.json numbers as the model computes with them, in float32: a value that is not finite,
/// positive and normal there (a rotary base of −1 or 0, an epsilon of 1e-300 that becomes 0, a soft-cap of 1e308
/// that becomes ∞) would poison every result, and a head width whose products wrap around int would pass the
/// shape check; each is a one-line error naming config.json and the key before a weight is read.
/// </summary>
public class ConfigValueTests
{
    internal static string WithConfigValue(string fixture, string key, JsonNode value)
    {
        var dir = Directory.CreateTempSubdirectory("relp-config-").FullName;
        foreach (var f in Directory.GetFiles(TestPaths.Data(fixture))) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        var config = Path.Combine(dir, "config.json");
        var json = JsonNode.Parse(File.ReadAllText(config))!.AsObject();
        json[key] = value;
        File.WriteAllText(config, json.ToJsonString());
        return dir;
    }

    public static TheoryData<string, string, double> PoisonousNumbers => new()
    {
        { "tiny-llama-mqa", "rope_theta", -1 },
        { "tiny-llama-mqa", "rope_theta", 0 },
        { "tiny-llama-mqa", "rope_theta", 1e-40 },
        { "tiny-llama-mqa", "rope_theta", 1e39 },
        { "tiny-llama-mqa", "rms_norm_eps", 1e-300 },
        { "tiny-qwen2", "rms_norm_eps", 1e-40 },
        { "tiny-qwen3", "rms_norm_eps", 1e-300 },
        { "tiny-qwen3", "rope_theta", 0 },
        { "tiny-gemma2", "attn_logit_softcapping", 1e308 },
        { "tiny-gemma2", "attn_logit_softcapping", 1e-40 },
        { "tiny-gemma2", "final_logit_softcapping", 1e308 },
        { "tiny-gemma2", "final_logit_softcapping", 1e-40 },
        { "tiny-gemma2", "query_pre_attn_scalar", 1e-40 },
        { "tiny-gemma2", "rope_theta", -1 },
        { "tiny-gemma2", "rms_norm_eps", 1e-300 },
        { "tiny-gemma3", "rope_local_base_freq", 0 },
        { "tiny-gemma3", "rope_local_base_freq", 1e39 },
        { "tiny-gemma3", "sliding_window", 0 },
        { "tiny-gemma3", "sliding_window", 2.5 },
        { "tiny-gemma3", "query_pre_attn_scalar", 1e-40 },
        { "tiny-gemma3", "rms_norm_eps", 1e-300 },
        { "tiny-neox", "rotary_emb_base", -1 },
        { "tiny-neox", "rotary_emb_base", 0 },
        { "tiny-neox", "rope_theta", 1e39 },
        { "tiny-neox", "layer_norm_eps", 1e-300 },
        { "tiny-neox", "rotary_pct", 1e-300 },
        { "tarot-gpt2", "layer_norm_epsilon", 1e-300 },
        { "tarot-gpt2", "layer_norm_epsilon", 1e-40 },
    };

    [Theory, MemberData(nameof(PoisonousNumbers))]
    public void ANumberFloat32CannotHoldIsRefusedNamingTheKey(string fixture, string key, double value)
    {
        var dir = WithConfigValue(fixture, key, JsonValue.Create(value));
        var e = Assert.Throws<RelpSaeException>(() => LanguageModels.Load(dir));
        Assert.Contains("config.json: " + key, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("tiny-llama-mqa")]
    [InlineData("tiny-gemma2")]
    [InlineData("tiny-qwen3")]
    [InlineData("tiny-gemma3")]
    public void AHeadWidthWhoseProductsWrapIsRefusedNamingIt(string fixture)
    {
        // 4 heads × (2³⁰ + 8) wraps around int to 32, the width of a [32, 32] projection.
        var dir = WithConfigValue(fixture, "head_dim", JsonValue.Create((1 << 30) + 8));
        var e = Assert.Throws<RelpSaeException>(() => LanguageModels.Load(dir));
        Assert.Contains("config.json: head_dim 1073741832", e.Message);
        Assert.Contains("more elements than one array can hold", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    /// <summary>Llama 3's rope_scaling values, each out of range one at a time in tiny-llama3-rope's config.</summary>
    public static TheoryData<string, double, string> BadRopeScalings => new()
    {
        { "factor", 0.5, "rope_scaling.factor is 0.5, not a positive number float32 holds of at least 1" },
        { "factor", 1e39, "rope_scaling.factor is 1E+39, not a positive number float32 holds" },
        { "low_freq_factor", -1, "rope_scaling.low_freq_factor is -1, not a positive number float32 holds" },
        { "high_freq_factor", 1e-40, "rope_scaling.high_freq_factor is 1E-40, not a positive number float32 holds" },
        { "high_freq_factor", 1, "rope_scaling.high_freq_factor 1 is not above low_freq_factor 1" },
        { "original_max_position_embeddings", 0, "rope_scaling.original_max_position_embeddings is 0, not a positive integer" },
        { "original_max_position_embeddings", 8.5, "rope_scaling.original_max_position_embeddings is 8.5, not a positive integer" },
    };

    [Theory, MemberData(nameof(BadRopeScalings))]
    public void ARopeScalingValueOutOfRangeIsRefusedNamingItsPath(string key, double value, string expected)
    {
        var scaling = JsonNode.Parse(File.ReadAllText(TestPaths.Data("tiny-llama3-rope", "config.json")))!["rope_scaling"]!.DeepClone();
        scaling[key] = value;
        var e = Assert.Throws<RelpSaeException>(() => LanguageModels.Load(WithConfigValue("tiny-llama3-rope", "rope_scaling", scaling)));
        Assert.Contains("config.json: " + expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    public static TheoryData<string, string, string> RefusedRopeScalings => new()
    {
        { "tiny-llama3-rope", """{"rope_type": "yarn", "factor": 4.0}""", "rope_scaling type 'yarn' is not supported; scaled rotary embeddings run llama3 only" },
        { "tiny-qwen3", """{"type": "linear", "factor": 2.0}""", "rope_scaling type 'linear' is not supported" },
        { "tiny-llama3-rope", "\"llama3\"", "rope_scaling is \"llama3\", not an object" },
        { "tiny-llama3-rope", """{"rope_type": "llama3", "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8}""",
            "rope_scaling.factor is missing" },
        { "tiny-gemma2", """{"rope_type": "llama3", "factor": 8.0}""", "rope_scaling is set; scaled rotary embeddings are not supported" },
        { "tiny-neox", """{"rope_type": "llama3", "factor": 8.0}""", "rope_scaling is set; scaled rotary embeddings are not supported" },
    };

    /// <summary>Only Llama 3's scaling runs, in the Llama family and Qwen3; any other type, or any scaling in Gemma-2 and GPT-NeoX, is refused naming rope_scaling.</summary>
    [Theory, MemberData(nameof(RefusedRopeScalings))]
    public void ARopeScalingThatDoesNotRunIsRefusedNamingTheKey(string fixture, string scaling, string expected)
    {
        var e = Assert.Throws<RelpSaeException>(() => LanguageModels.Load(WithConfigValue(fixture, "rope_scaling", JsonNode.Parse(scaling)!)));
        Assert.Contains("config.json: " + expected, e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Gpt2ReadsItsConfigThroughTheSharedReaderInvalidUtf8Included()
    {
        var dir = WithConfigValue("tarot-gpt2", "model_type", JsonValue.Create("gpt2"));
        var config = Path.Combine(dir, "config.json");
        var bytes = File.ReadAllBytes(config);
        int at = Array.IndexOf(bytes, (byte)'g', System.Text.Encoding.ASCII.GetString(bytes).IndexOf("\"gpt2\"", StringComparison.Ordinal));
        bytes[at] = 0xFF;
        File.WriteAllBytes(config, bytes);
        var e = Assert.Throws<RelpSaeException>(() => LanguageModels.Load(dir));
        Assert.Contains("config.json", e.Message);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void ACapOfNullIsStillNoneAndTheFixturesStillLoad()
    {
        foreach (var fixture in new[] { "tiny-llama-mqa", "tiny-qwen2", "tiny-qwen3", "tiny-gemma2", "tiny-neox", "tarot-gpt2" })
            Assert.NotNull(LanguageModels.Load(TestPaths.Data(fixture)));
        var none = (Gemma2)LanguageModels.Load(WithConfigValue("tiny-gemma2", "attn_logit_softcapping", null!));
        Assert.Equal(0f, none.Config.AttentionSoftcap);
    }
}
