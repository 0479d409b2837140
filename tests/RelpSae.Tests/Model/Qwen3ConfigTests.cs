using System.Text.Json.Nodes;
using RelpSae.Model;
using RelpSae.Tests.Formats;

namespace RelpSae.Tests.Model;

/// <summary>Qwen3's config.json read as Hugging Face's Qwen3Config reads it, where that differs from the Llama family's.</summary>
public class Qwen3ConfigTests
{
    [Fact]
    public void WithoutHeadDimTheHeadIs128WideNotHiddenSizeOverHeads()
    {
        var dir = ConfigValueTests.WithConfigValue("tiny-qwen3", "head_dim", null!);
        var e = Assert.Throws<RelpSaeException>(() => LanguageModels.Load(dir));
        Assert.Contains("tensor 'model.layers.0.self_attn.q_norm.weight' has shape [12]", e.Message);
        Assert.EndsWith("config.json implies [128]", e.Message);
    }

    [Theory]
    [InlineData(false, 64)]
    [InlineData(true, 16)]
    public void TheSlidingWindowCapsTheContextOnlyWhenUseSlidingWindowIsSet(bool use, int context)
    {
        var dir = ConfigValueTests.WithConfigValue("tiny-qwen3", "sliding_window", JsonValue.Create(16));
        dir = ConfigValueTests.WithConfigValue(dir, "use_sliding_window", JsonValue.Create(use));
        Assert.Equal(context, LanguageModels.Load(dir).Facts.Context);
    }

    [Fact]
    public void AttentionBiasAsksForTheProjectionsBiases()
    {
        var e = Assert.Throws<RelpSaeException>(() => LanguageModels.Load(ConfigValueTests.WithConfigValue("tiny-qwen3", "attention_bias", JsonValue.Create(true))));
        Assert.Contains("lacks tensor 'model.layers.0.self_attn.q_proj.bias'", e.Message);
    }
}
