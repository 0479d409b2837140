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
    private static string WithConfigValue(string fixture, string key, JsonNode value)
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
        { "tiny-gemma2", "attn_logit_softcapping", 1e308 },
        { "tiny-gemma2", "attn_logit_softcapping", 1e-40 },
        { "tiny-gemma2", "final_logit_softcapping", 1e308 },
        { "tiny-gemma2", "final_logit_softcapping", 1e-40 },
        { "tiny-gemma2", "query_pre_attn_scalar", 1e-40 },
        { "tiny-gemma2", "rope_theta", -1 },
        { "tiny-gemma2", "rms_norm_eps", 1e-300 },
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
    public void AHeadWidthWhoseProductsWrapIsRefusedNamingIt(string fixture)
    {
        // 4 heads × (2³⁰ + 8) wraps around int to 32, the width of a [32, 32] projection.
        var dir = WithConfigValue(fixture, "head_dim", JsonValue.Create((1 << 30) + 8));
        var e = Assert.Throws<RelpSaeException>(() => LanguageModels.Load(dir));
        Assert.Contains("config.json: head_dim 1073741832", e.Message);
        Assert.Contains("more elements than one array can hold", e.Message);
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
        foreach (var fixture in new[] { "tiny-llama-mqa", "tiny-qwen2", "tiny-gemma2", "tiny-neox", "tarot-gpt2" })
            Assert.NotNull(LanguageModels.Load(TestPaths.Data(fixture)));
        var none = (Gemma2)LanguageModels.Load(WithConfigValue("tiny-gemma2", "attn_logit_softcapping", null!));
        Assert.Equal(0f, none.Config.AttentionSoftcap);
    }
}
