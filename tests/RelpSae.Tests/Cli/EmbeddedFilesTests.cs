using System.Security.Cryptography;
using RelpSae.Tests.Sae;

namespace RelpSae.Tests.Cli;

/// <summary>
/// The embedded model and SAE (models/default beside the executable, here the test's output folder) are
/// part of the tool: every command run with its defaults must leave them byte for byte as they were.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class EmbeddedFilesTests
{
    private static Dictionary<string, string> Hashes()
    {
        var root = Path.Combine(AppContext.BaseDirectory, "models", "default");
        return Directory.GetFiles(root, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(root, f), f => Convert.ToHexString(SHA256.HashData(File.ReadAllBytes(f))));
    }

    [Fact]
    public void TheEmbeddedTranscodersTravelWithTheToolOnePerBlockAndAreNeverRewritten()
    {
        var root = Path.Combine(AppContext.BaseDirectory, "models", "default", "transcoders");
        for (int layer = 0; layer < 4; layer++)
        {
            var folder = Path.Combine(root, $"blocks.{layer}.ln2.hook_normalized");
            var transcoder = RelpSae.Sae.TranscoderFiles.Load(folder);
            Assert.Equal(($"blocks.{layer}.ln2.hook_normalized", $"blocks.{layer}.hook_mlp_out"), (transcoder.InputHook, transcoder.OutputHook));
            Assert.True(File.Exists(Path.Combine(folder, RelpSae.Sae.FeatureMeans.FileName)));
        }
        // Only finished runs travel: no lock or checkpoint of a run that was in progress there.
        Assert.DoesNotContain(Directory.GetFiles(root, "*", SearchOption.AllDirectories), f => Path.GetFileName(f) is ".lock" or "checkpoint.safetensors");
        var refused = CliHarness.Run("eval-sae", "--sae", Path.Combine(root, "blocks.1.ln2.hook_normalized"), "--data", TarotText.WriteFile(), "--tokens", "60");
        Assert.Equal(2, refused.Code);
        Assert.Contains("pass --out", refused.Error);
    }

    [Fact]
    public void NoCommandRunWithItsDefaultsWritesIntoTheEmbeddedFiles()
    {
        var before = Hashes();
        Assert.Contains(Path.Combine("sae", "feature_summaries.json"), before.Keys);
        var tmp = Directory.CreateTempSubdirectory().FullName;
        string Out(string name) => Path.Combine(tmp, name);
        var data = TarotText.WriteFile();
        string[][] commands =
        [
            ["attribute", "--prompt", "The Tower", "--json", Out("attr.json")],
            ["evaluate", "--n", "2", "--out", Out("eval")],
            ["merge", Out("eval"), "--out", Out("merged")],
            ["eval-sae", "--data", data, "--tokens", "150", "--out", Out("eval-sae"), "--json", Out("eval-sae.json")],
            ["train-sae", "--hook", "blocks.2.hook_resid_post", "--tokens", "1024", "--batch", "64", "--context", "16", "--data", data,
                "--shuffle-rows", "256", "--eval-tokens", "100", "--out", Out("sae")],
            ["verify"],
            ["generate", "--prompt", "Love", "--tokens", "3", "--json", Out("generate.json")],
            ["sample-text", "--documents", "2", "--tokens", "8", "--out", Out("sample.txt")],
            ["tokenize", "--text", "Love", "--json", Out("tokens.json")],
            ["convert", "--out", Out("converted")],
            ["version"],
        ];
        foreach (var command in commands)
        {
            var (code, _, error) = CliHarness.Run(command);
            Assert.True(code == 0, $"{command[0]}: {error}");
        }
        // eval-sae on the embedded SAE without --out refuses instead of rewriting its summaries and means.
        var refused = CliHarness.Run("eval-sae", "--data", data, "--tokens", "150");
        Assert.Equal(2, refused.Code);
        Assert.Contains("pass --out", refused.Error);
        Assert.Equal(before, Hashes());
        // --out holds a usable copy of the SAE with its own summaries and means.
        foreach (var file in new[] { "cfg.json", "sae_weights.safetensors", "feature_summaries.json", "feature_means.safetensors" })
            Assert.True(File.Exists(Path.Combine(Out("eval-sae"), file)), file);
        Assert.Equal(0, CliHarness.Run("attribute", "--prompt", "The Tower", "--sae", Out("eval-sae"), "--top", "1").Code);
    }
}
