using System.Text.Json.Nodes;
using RelpSae.Model;

namespace RelpSae.Tests.Model;

/// <summary>
/// transformers 5's rope_parameters, flat or per layer type, configure the same rotation as transformers 4's rope_theta,
/// rope_scaling and rope_local_base_freq: a fixture's config rewritten in the newer form gives its logits to the bit.
/// </summary>
public class RopeParametersTests
{
    [Theory]
    [InlineData("tiny-llama3-rope", """{"rope_type": "llama3", "rope_theta": 10000.0, "factor": 8.0, "low_freq_factor": 1.0, "high_freq_factor": 4.0, "original_max_position_embeddings": 8}""")]
    [InlineData("tiny-qwen3", """{"rope_type": "default", "rope_theta": 1000000.0}""")]
    [InlineData("tiny-gemma2", """{"rope_type": "default", "rope_theta": 10000.0}""")]
    [InlineData("tiny-gemma3", """{"full_attention": {"rope_type": "linear", "factor": 4.0, "rope_theta": 10000.0}, "sliding_attention": {"rope_type": "default", "rope_theta": 100.0}}""")]
    public void TheNewerFormConfiguresTheSameRotation(string fixture, string parameters)
    {
        var dir = Directory.CreateTempSubdirectory("relp-rope-").FullName;
        foreach (var f in Directory.GetFiles(TestPaths.Data(fixture))) File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        var path = Path.Combine(dir, "config.json");
        var config = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        foreach (var key in new[] { "rope_theta", "rope_scaling", "rope_local_base_freq" }) config.Remove(key);
        config["rope_parameters"] = JsonNode.Parse(parameters);
        File.WriteAllText(path, config.ToJsonString());
        Assert.Equal(Logits(TestPaths.Data(fixture)), Logits(dir));
    }

    private static float[] Logits(string dir)
    {
        var model = LanguageModels.Load(dir);
        using var run = model.Forward([1, 5, 9, 33, 2, 60], 1, new RunOptions { Logits = LogitRows.All });
        return run.Logits.AsSpan(0, 6 * model.Facts.VocabSize).ToArray();
    }
}
