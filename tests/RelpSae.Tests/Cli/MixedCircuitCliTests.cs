using System.Text.Json;

namespace RelpSae.Tests.Cli;

/// <summary>`evaluate --circuit` and `attribute --saes` with dictionaries at every kind of site, on the embedded model.</summary>
[Collection(nameof(ConsoleCollection))]
public class MixedCircuitCliTests
{
    /// <summary>
    /// The Sparse Feature Circuits setting in one --saes — an SAE at every block's residual stream, attention output and MLP
    /// output — and a mix with a transcoder in place of an MLP, in `evaluate --circuit` and `attribute`.
    /// </summary>
    [Fact]
    public void EvaluateAndAttributeTakeSaesAtEverySiteAndTranscoders()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        var siteSaes = Path.Combine(Path.GetDirectoryName(RelpSae.Cli.SaeSetOptions.EmbeddedSaes)!, "site-saes");
        var (code, _, error) = CliHarness.Run(["evaluate", "--circuit", "--saes", $"{RelpSae.Cli.SaeSetOptions.EmbeddedSaes},{siteSaes}", "--task", "contrastive", "--n", "1",
            "--methods", "gradient,ig,relp", "--ig-steps", "2", "--out", dir]);
        Assert.True(code == 0, error);
        var circuit = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "results.json"))).RootElement.GetProperty("circuit");
        Assert.Equal(Enumerable.Range(0, 4).SelectMany(l => new[] { $"blocks.{l}.hook_attn_out", $"blocks.{l}.hook_mlp_out", $"blocks.{l}.hook_resid_post" }),
            circuit.GetProperty("hooks").EnumerateArray().Select(h => h.GetString()));
        Assert.Equal(12 * 513, circuit.GetProperty("nodes").GetInt32());
        foreach (var m in circuit.GetProperty("methods").EnumerateObject())
        {
            Assert.Equal(1.0, m.Value.GetProperty("faithfulness").EnumerateArray().Last().GetDouble());
            Assert.Equal(0.0, m.Value.GetProperty("completeness").EnumerateArray().Last().GetDouble());
        }

        var mix = Directory.CreateTempSubdirectory().FullName;
        Sae.SaeSetTests.Transcoder(mix, 1, "transcoder-1", d: 128);
        var json = Path.Combine(dir, "nodes.json");
        (code, var output, error) = CliHarness.Run(["attribute", "--saes", $"{mix},{CliHarness.RandomSae("blocks.2.hook_attn_out")}", "--prompt", "Your money will",
            "--corrupt", "Your work will", "--methods", "gradient,relp,ig", "--ig-steps", "2", "--top", "8", "--json", json]);
        Assert.True(code == 0, error);
        Assert.Contains("blocks.1.hook_mlp_out (transcoder from blocks.1.ln2.hook_normalized), blocks.2.hook_attn_out:", output);
        var root = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal(["blocks.1.hook_mlp_out", "blocks.2.hook_attn_out"], root.GetProperty("hooks").EnumerateArray().Select(h => h.GetString()));
        Assert.Equal(3 * 128 + 1 + 512 + 1, root.GetProperty("nodes").GetInt32());
    }
}
