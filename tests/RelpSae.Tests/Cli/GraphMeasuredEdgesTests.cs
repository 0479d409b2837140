using System.Text.Json.Nodes;
using RelpSae.Attribution;
using RelpSae.Graphs;
using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Tests.Cli;

/// <summary>
/// <c>relp-sae graph</c> measures every kept edge against patching: each link of graph.json carries its true direct
/// effect, which for a feature → feature edge is that of a one-source measurement of the same nodes, results.json's
/// statistics are those of the links' weights against their measured effects, and the viewer is written beside them.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class GraphMeasuredEdgesTests
{
    private static readonly string Transcoders = TestPaths.Data("graph-transcoders");
    private const string Prompt = "The tower card means";

    [Fact]
    public void EveryKeptEdgeIsMeasuredAndTheResultsAreTheLinksStatistics()
    {
        var outDir = Directory.CreateTempSubdirectory("relp-graph-").FullName;
        var (code, output, error) = CliHarness.Run("graph", "--prompt", Prompt, "--model", CliHarness.Tarot, "--saes", Transcoders,
            "--out", outDir, "--methods", "gradient,replacement");
        Assert.True(code == 0, error);
        Assert.Contains("kept edges measured against patching", output);
        Assert.True(File.Exists(Path.Combine(outDir, GraphViewer.FileName)));

        var graph = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, GraphJson.FileName)))!;
        var links = graph["links"]!.AsArray().Select(l => l!.AsObject()).ToList();
        Assert.All(links, l => Assert.True(l.ContainsKey("measured")));
        double[] weights = [.. links.Select(l => (double)l["weight"]!)], truth = [.. links.Select(l => (double)l["measured"]!)];

        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, MeasuredEdges.FileName)))!;
        Assert.Equal(links.Count, (int)results["edges_measured"]!);
        var methods = results["edges"]!["methods"]!.AsArray();
        Assert.Equal(["replacement", "gradient"], methods.Select(m => (string)m!["name"]!));
        var all = methods[0]!["all"]!;
        Assert.Equal(Agreement.Pearson(weights, truth), (double)all["pearson"]!, 1e-7);
        Assert.Equal(Agreement.SignAgreement(weights, truth), (double)all["sign_agreement"]!, 1e-7);

        // One feature → feature link, measured again on its own: the graph's nodes are the measurement's.
        var link = links.First(l => ((string)l["source"]!).Split('_').Length == 3 && !((string)l["source"]!).StartsWith("E_", StringComparison.Ordinal)
            && ((string)l["target"]!).Split('_') is [var layer, _, _] && int.Parse(layer) < 4);
        int[] s = [.. ((string)link["source"]!).Split('_').Select(int.Parse)], t = [.. ((string)link["target"]!).Split('_').Select(int.Parse)];
        var model = ModelFolder.Load(CliHarness.Tarot);
        var set = TranscoderSet.Load(Transcoders, model.Facts);
        var tokens = model.Encode(Prompt, prependBos: false);
        var alone = DirectEffects.Measure(model.Transformer, tokens, TranscoderSplice.All(model.Transformer, set, tokens),
            [EdgeSource.ForFeature(s[0], s[2], s[1])], [EdgeTarget.FeatureInput(t[0], t[2], t[1])]);
        Assert.Equal(alone[0, 0], (double)link["measured"]!, 1e-5 * (1 + Math.Abs(alone[0, 0])));
    }

    [Fact]
    public void AnUnknownMethodToMeasureIsRefusedInOneLine()
    {
        var (code, _, error) = CliHarness.Run("graph", "--prompt", "The tower", "--model", CliHarness.Tarot, "--saes", Transcoders,
            "--out", Directory.CreateTempSubdirectory().FullName, "--methods", "replacement,banana");
        Assert.Equal(2, code);
        Assert.StartsWith("error: --methods: unknown graph method \"banana\"", error.Trim());
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void APromptGivenAsIdsMakesTheGraphOfThoseTokens()
    {
        var tokens = ModelFolder.Load(CliHarness.Tarot).Encode(Prompt);
        string[] Links(params string[] prompt)
        {
            var outDir = Directory.CreateTempSubdirectory("relp-graph-").FullName;
            var (code, _, error) = CliHarness.Run(["graph", .. prompt, "--model", CliHarness.Tarot, "--saes", Transcoders, "--out", outDir, "--methods", "none"]);
            Assert.True(code == 0, error);
            Assert.False(File.Exists(Path.Combine(outDir, MeasuredEdges.FileName)));
            return [.. JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, GraphJson.FileName)))!["links"]!.AsArray().Select(l => l!.ToJsonString())];
        }
        Assert.Equal(Links("--prompt", Prompt), Links("--prompt-ids", string.Join(",", tokens)));

        var (code, _, error) = CliHarness.Run("graph", "--model", CliHarness.Tarot, "--saes", Transcoders, "--out", Directory.CreateTempSubdirectory().FullName);
        Assert.Equal(2, code);
        Assert.Equal("error: give the prompt as --prompt TEXT or --prompt-ids IDS (one of them)", error.Trim());
    }
}
