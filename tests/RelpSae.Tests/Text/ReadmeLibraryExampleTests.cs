using System.Text.Json;
using RelpSae.Attribution;
using RelpSae.Model;
using RelpSae.Prompts;
using RelpSae.Sae;
using RelpSae.Tests.Cli;

namespace RelpSae.Tests.Text;

/// <summary>
/// The README's library example, line for line, on the embedded model and SAE: its top feature and
/// score per method, and its completeness sum, are those `relp-sae attribute --prompt "The Tower"` prints
/// (the README's example session shows #93 at 1.6856, 2.8542 and 2.3896).
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class ReadmeLibraryExampleTests
{
    private static string Embedded(string part) => Path.Combine(AppContext.BaseDirectory, "models", "default", part);

    [Fact]
    public void TheLibraryExampleGivesWhatAttributePrints()
    {
        // The README's lines, with the embedded folders where a test's output folder holds them and
        // Console.WriteLine collecting into a list.
        var printed = new List<string>();
        var results = new List<AttributionResult>();
        var model = ModelFolder.Load(Embedded("model"));
        var sae = SaeFiles.Load(Embedded("sae"));
        var hook = model.Facts.ParseHook(sae.Config.HookName!);
        var prompt = new PromptResolver(model.Transformer, model.Tokenizer).Resolve(new PromptCase("The Tower"));
        var splice = SaeSplice.Create(model.Transformer, sae, hook, prompt.Tokens, prompt.Baseline);
        foreach (var method in AttributionMethods.Parse("gradient,ig,relp"))
        {
            results.Add(Attributor.Run(method, splice, prompt.Metric));
            var (feature, score) = results[^1].Top(1)[0];
            printed.Add($"{method.Name}: #{feature} {score:F4}");
        }
        Assert.Equal(["gradient: #93 1.6856", "ig: #93 2.8542", "relp: #93 2.3896"], printed);

        var json = Path.Combine(Directory.CreateTempSubdirectory().FullName, "attr.json");
        Assert.Equal(0, CliHarness.Run("attribute", "--prompt", "The Tower", "--json", json).Code);
        var cli = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("methods").EnumerateArray().ToList();

        // Bit for bit what the command computes: each method's top feature and score, and its completeness sum.
        Assert.Equal(cli.Select(m => m.GetProperty("name").GetString()), results.Select(r => r.Method));
        foreach (var (result, shown) in results.Zip(cli))
        {
            var (feature, score) = result.Top(1)[0];
            var top = shown.GetProperty("top")[0];
            Assert.Equal(top.GetProperty("feature").GetInt32(), feature);
            Assert.Equal(top.GetProperty("score").GetDouble(), score);
            Assert.Equal(shown.GetProperty("total").GetDouble() + shown.GetProperty("error_node").GetDouble(), result.Total + result.ErrorNode);
        }
    }
}
