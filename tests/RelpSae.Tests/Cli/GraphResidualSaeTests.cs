using System.Text.Json.Nodes;
using RelpSae.Graphs;

namespace RelpSae.Tests.Cli;

/// <summary>
/// <c>relp-sae graph --saes</c> with residual-stream SAEs (one at every hook_resid_post): graph.json names their features
/// and error nodes for what they are, every kept edge is measured against patching; transcoders and SAEs in one graph,
/// SAEs at other hooks and a block without one are refused in one line.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class GraphResidualSaeTests
{
    private static readonly string Saes = TestPaths.Data("graph-resid-saes");

    [Fact]
    public void AGraphOverResidualSaesNamesItsNodesAndMeasuresItsEdges()
    {
        var outDir = Directory.CreateTempSubdirectory("relp-graph-").FullName;
        var (code, output, error) = CliHarness.Run("graph", "--prompt", "The tower card means", "--model", CliHarness.Tarot, "--saes", Saes,
            "--out", outDir, "--methods", "replacement,gradient");
        Assert.True(code == 0, error);
        Assert.Contains("kept edges measured against patching", output);
        var graph = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, GraphJson.FileName)))!;
        var types = graph["nodes"]!.AsArray().Select(n => (string)n!["feature_type"]!).Distinct().Order().ToList();
        Assert.Equal(["embedding", "logit", GraphJson.ResidualError, GraphJson.ResidualFeature], types);
        var links = graph["links"]!.AsArray();
        Assert.NotEmpty(links);
        Assert.All(links, l => Assert.True(l!.AsObject().ContainsKey("measured")));
        Assert.Equal(4, graph["metadata"]!["transcoder_list"]!.AsArray().Count);
    }

    [Fact]
    public void AnAblationOfAResidualFeatureIsRecordedAsAttributeSeesIt()
    {
        string Run(params string[] extra)
        {
            var outDir = Directory.CreateTempSubdirectory("relp-graph-").FullName;
            var (code, _, error) = CliHarness.Run(["graph", "--prompt", "The tower card means", "--model", CliHarness.Tarot, "--saes", Saes,
                "--out", outDir, "--methods", "none", .. extra]);
            Assert.True(code == 0, error);
            return File.ReadAllText(Path.Combine(outDir, GraphJson.FileName));
        }
        List<JsonObject> Features(string json) => [.. JsonNode.Parse(json)!["nodes"]!.AsArray().Select(n => n!.AsObject())
            .Where(n => (string)n["feature_type"]! == GraphJson.ResidualFeature)];
        var node = Features(Run()).Where(n => (string)n["layer"]! == "1").MaxBy(n => (double)n["activation"]!)!;
        string ablate = $"blocks.1.hook_resid_post:{(int)node["feature"]!}";
        var graph = Run("--ablate", ablate);
        foreach (var n in Features(graph))
        {
            if ((string)n["layer"]! == "0") Assert.Equal((double)n["activation"]!, (double)n["intervened_activation"]!, 5);
            if ((string)n["layer"]! == "1" && (int)n["feature"]! == (int)node["feature"]!) Assert.Equal(0, (double)n["intervened_activation"]!);
        }
        // A spliced SAE with its error node live is the identity, so the four SAEs' intervened model is attribute's with the one ablated.
        var logit = JsonNode.Parse(graph)!["intervention"]!["logits"]![0]!;
        var (code, output, error) = CliHarness.Run("attribute", "--model", CliHarness.Tarot, "--sae", Path.Combine(Saes, "blocks.1.hook_resid_post"),
            "--prompt", "The tower card means", "--target", ((int)logit["token"]!).ToString(System.Globalization.CultureInfo.InvariantCulture),
            "--metric", "logit", "--methods", "gradient", "--ablate", ablate, "--json", "-");
        Assert.True(code == 0, error);
        Assert.Equal(System.Text.Json.JsonDocument.Parse(output).RootElement.GetProperty("metric").GetProperty("clean").GetDouble(), (double)logit["intervened_logit"]!, 4);
    }

    [Fact]
    public void TranscodersAndSaesInOneGraphAreRefused() => BadInputTests.AssertUserError(
        Graph($"{TestPaths.Data("graph-transcoders")},{Path.Combine(Saes, "blocks.0.hook_resid_post")}"),
        "is a transcoder but " + Path.Combine(Saes, "blocks.0.hook_resid_post") + " is an SAE: an attribution graph is over transcoders or over residual-stream SAEs, not both");

    [Theory]
    [InlineData("blocks.1.hook_attn_out")]
    [InlineData("blocks.1.hook_mlp_out")]
    [InlineData("blocks.1.hook_resid_pre")]
    public void SaesAtOtherHooksAreRefused(string hook)
    {
        var sae = CliHarness.RandomSae(hook);
        BadInputTests.AssertUserError(Graph(sae), $"{sae}: an SAE at {hook}; an attribution graph takes residual-stream SAEs at blocks.N.hook_resid_post");
    }

    [Fact]
    public void IntegratedGradientsIsRefused() => BadInputTests.AssertUserError([.. Graph(Saes), "--method", "ig"],
        "method ig moves the MLP outputs' nodes along its path, and a graph over residual-stream SAEs has none");

    [Fact]
    public void ABlockWithoutAnSaeIsRefused() => BadInputTests.AssertUserError(
        Graph(string.Join(',', new[] { 0, 1, 3 }.Select(l => Path.Combine(Saes, $"blocks.{l}.hook_resid_post")))),
        "an attribution graph over residual-stream SAEs needs one at every block's hook_resid_post: block 2 has none (3 of 4 given)");

    private static string[] Graph(string saes) =>
        ["graph", "--prompt", "The tower", "--model", CliHarness.Tarot, "--saes", saes, "--out", Directory.CreateTempSubdirectory("relp-graph-").FullName];
}
