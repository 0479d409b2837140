using System.Text.Json.Nodes;
using RelpSae.Model;
using RelpSae.Tests.Formats;

namespace RelpSae.Tests.Model;

/// <summary>
/// Llama 3.1's rotary scaling (rope_scaling of type llama3) beside the golden data of tiny-llama3-rope: the three
/// regimes of a frequency by its wavelength, and the legacy "type" key read as rope_type.
/// </summary>
public class RopeScalingTests
{
    [Fact]
    public void LongWavelengthsAreDividedShortOnesKeptAndThoseBetweenInterpolated()
    {
        var scaling = new Llama3RopeScaling(Factor: 8, LowFreqFactor: 1, HighFreqFactor: 4, OriginalContext: 8192);
        Assert.Equal(1f, scaling.Scale(1f));                   // wavelength 6.3 < 8192/4: kept
        Assert.Equal(1e-4f / 8, scaling.Scale(1e-4f), 1e-12);  // wavelength 62832 > 8192: divided by the factor
        // wavelength 2π/0.002 = 3141.6, between 2048 and 8192: s = (8192/3141.6 − 1)/3.
        double s = (8192 / (2 * Math.PI / 0.002) - 1) / 3;
        Assert.Equal((1 - s) * 0.002 / 8 + s * 0.002, scaling.Scale(0.002f), 1e-8);
    }

    [Fact]
    public void TheLegacyTypeKeyScalesAsRopeTypeDoes()
    {
        var scaling = JsonNode.Parse(File.ReadAllText(TestPaths.Data("tiny-llama3-rope", "config.json")))!["rope_scaling"]!.DeepClone().AsObject();
        scaling.Remove("rope_type");
        scaling["type"] = "llama3";
        var dir = ConfigValueTests.WithConfigValue("tiny-llama3-rope", "rope_scaling", scaling);
        int[] tokens = [1, 5, 9, 33, 2, 60];
        using var legacy = LanguageModels.Load(dir).Forward(tokens, 1, new RunOptions { Logits = LogitRows.All });
        using var current = LanguageModels.Load(TestPaths.Data("tiny-llama3-rope")).Forward(tokens, 1, new RunOptions { Logits = LogitRows.All });
        Assert.Equal(current.Logits, legacy.Logits);
    }
}
