using System.Text.Json;
using RelpSae.Prompts;
using RelpSae.Tests.Cli;

namespace RelpSae.Tests.Text;

/// <summary>
/// The library example of docs/architecture.md, line for line, on the embedded model and SAE: each method's top feature and
/// score, and its completeness sum, are those `relp-sae attribute --prompt "The Tower"` prints (the README
/// shows #93 at 1.6856, 2.8542 and 2.3896), and the evaluation's statistics are what `relp-sae evaluate`
/// writes to results.json for the same prompts.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class ReadmeLibraryExampleTests
{
    private static string Embedded(string part) => Path.Combine(AppContext.BaseDirectory, "models", "default", part);

    [Fact]
    public void TheLibraryExampleGivesWhatAttributeAndEvaluatePrint()
    {
        // The README's lines, with the embedded folders where a test's output folder holds them and
        // Console.WriteLine collecting into a list.
        var printed = new List<string>();
        var relp = Relp.Load(Embedded("model"), Embedded("sae"));
        var attribution = relp.Attribute("The Tower");
        foreach (var m in attribution.Methods)
            printed.Add($"{m.Method}: #{m.Top(1)[0].Feature} {m.Top(1)[0].Score:F4}");
        Assert.Equal(["gradient: #93 1.6856", "ig: #93 2.8542", "relp: #93 2.3896"], printed);
        var report = relp.Evaluate(ContrastivePrompts.Generate(4), "gradient,relp");

        var dir = Directory.CreateTempSubdirectory().FullName;
        var json = Path.Combine(dir, "attr.json");
        Assert.Equal(0, CliHarness.Run("attribute", "--prompt", "The Tower", "--json", json).Code);
        var cli = JsonDocument.Parse(File.ReadAllText(json)).RootElement.GetProperty("methods").EnumerateArray().ToList();
        // Bit for bit what the command computes: each method's top feature and score, and its completeness sum.
        Assert.Equal(cli.Select(m => m.GetProperty("name").GetString()), attribution.Methods.Select(r => r.Method));
        foreach (var (result, shown) in attribution.Methods.Zip(cli))
        {
            var (feature, score) = result.Top(1)[0];
            var top = shown.GetProperty("top")[0];
            Assert.Equal(top.GetProperty("feature").GetInt32(), feature);
            Assert.Equal(top.GetProperty("score").GetDouble(), score);
            Assert.Equal(shown.GetProperty("total").GetDouble() + shown.GetProperty("error_node").GetDouble(), result.Total + result.ErrorNode);
        }

        var evaluated = Path.Combine(dir, "evaluate");
        Assert.Equal(0, CliHarness.Run("evaluate", "--n", "4", "--methods", "gradient,relp", "--out", evaluated).Code);
        var methods = JsonDocument.Parse(File.ReadAllText(Path.Combine(evaluated, "results.json"))).RootElement.GetProperty("methods").EnumerateArray().ToList();
        Assert.Equal(methods.Select(m => m.GetProperty("name").GetString()), report.Methods.Select(m => m.Name));
        foreach (var (summary, written) in report.Methods.Zip(methods))
        {
            Assert.Equal(written.GetProperty("pearson").GetDouble(), summary.Pearson.Value, 12);
            Assert.Equal(written.GetProperty("top5").GetDouble(), summary.Top5.Value, 12);
        }
        Assert.Equal(4, report.Prompts.Count);
    }

    [Fact]
    public void ATargetOfSeveralTokensIsRefusedNotCut()
    {
        var relp = Relp.Load(Embedded("model"), Embedded("sae"));
        var e = Assert.Throws<RelpSaeException>(() => relp.Attribute("The Tower", target: " Towering"));
        Assert.StartsWith("target \" Towering\" is 5 tokens", e.Message);
    }

    [Fact]
    public void NamesThatAreNeitherFoldersNorHubNamesAreOneLineErrors()
    {
        Assert.Equal("model not found: /no/such/model is neither a folder nor a Hub name",
            Assert.Throws<RelpSaeException>(() => Relp.Load("/no/such/model", Embedded("sae"))).Message);
    }
}
