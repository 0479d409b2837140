using System.Text.Json.Nodes;

namespace RelpSae.Tests.Cli;

/// <summary>
/// <c>relp-sae graph</c> on the tarot model with four random transcoders: graph.json has every field circuit-tracer's
/// pydantic models (frontend/graph_models.py) require, with their types, unique node ids and links between listed nodes;
/// bad options are refused in one line before the model runs.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class GraphCommandTests
{
    private static readonly string Transcoders = TestPaths.Data("graph-transcoders");

    // Required fields of graph_models.py's Metadata, QParams, Node and Link (Node's jsNodeId is filled from node_id there).
    private static readonly string[] MetadataFields = ["slug", "scan", "transcoder_list", "prompt_tokens", "prompt"];
    private static readonly string[] QParamsFields = ["pinnedIds", "supernodes", "linkType", "clickedId", "sg_pos"];
    private static readonly string[] NodeFields = ["node_id", "feature", "layer", "ctx_idx", "feature_type", "jsNodeId"];
    private static readonly string[] LinkFields = ["source", "target", "weight"];

    [Fact]
    public void TheGraphFileHasCircuitTracersFieldsAndTheSummaryItsCounts()
    {
        var outDir = Directory.CreateTempSubdirectory("relp-graph-").FullName;
        string summaryPath = Path.Combine(outDir, "summary.json");
        var (code, output, error) = CliHarness.Run("graph", "--prompt", "The tower card means", "--model", CliHarness.Tarot, "--saes", Transcoders,
            "--out", outDir, "--json", summaryPath);
        Assert.True(code == 0, error);
        Assert.Contains("replacement score", output);

        var graph = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "graph.json")))!.AsObject();
        var metadata = graph["metadata"]!.AsObject();
        Assert.All(MetadataFields, f => Assert.True(metadata.ContainsKey(f), f));
        Assert.Equal("The tower card means", (string)metadata["prompt"]!);
        Assert.Equal(0.8, (double)metadata["node_threshold"]!);
        Assert.All(QParamsFields, f => Assert.True(graph["qParams"]!.AsObject().ContainsKey(f), f));
        var nodes = graph["nodes"]!.AsArray().Select(n => n!.AsObject()).ToList();
        foreach (var node in nodes)
        {
            Assert.All(NodeFields, f => Assert.True(node.ContainsKey(f), f));
            Assert.Equal(System.Text.Json.JsonValueKind.String, node["layer"]!.GetValueKind());
            Assert.Contains((string)node["feature_type"]!, new[] { "cross layer transcoder", "mlp reconstruction error", "embedding", "logit" });
            // Ours besides: the constant of every node with inputs.
            Assert.Equal((string)node["feature_type"]! is "cross layer transcoder" or "logit", node.ContainsKey("bias"));
        }
        var ids = nodes.Select(n => (string)n["node_id"]!).ToList();
        Assert.Equal(ids.Count, ids.Distinct().Count());
        Assert.Equal(8, nodes.Count(n => (string)n["feature_type"]! == "embedding"));
        var logits = nodes.Where(n => (string)n["feature_type"]! == "logit").ToList();
        Assert.True((bool)logits[0]["is_target_logit"]! && logits.Skip(1).All(n => !(bool)n["is_target_logit"]!));
        Assert.All(logits, n => Assert.Equal($"5_{(int)n["feature"]!}_7", (string)n["node_id"]!));
        var links = graph["links"]!.AsArray().Select(l => l!.AsObject()).ToList();
        Assert.NotEmpty(links);
        foreach (var link in links)
        {
            Assert.All(LinkFields, f => Assert.True(link.ContainsKey(f), f));
            Assert.Contains((string)link["source"]!, ids);
            Assert.Contains((string)link["target"]!, ids);
        }

        var summary = JsonNode.Parse(File.ReadAllText(summaryPath))!.AsObject();
        Assert.Equal(links.Count, (int)summary["edges_kept"]!);
        Assert.Equal("replacement", (string)summary["method"]!);
        Assert.InRange((double)summary["replacement_score"]!, 0, 1);
        Assert.InRange((double)summary["completeness_score"]!, 0, 1);
    }

    [Fact]
    public void AFeatureNodeLimitKeepsThatManyFeatures()
    {
        var outDir = Directory.CreateTempSubdirectory("relp-graph-").FullName;
        var (code, _, error) = CliHarness.Run("graph", "--prompt", "The tower card means", "--model", CliHarness.Tarot, "--saes", Transcoders,
            "--out", outDir, "--max-feature-nodes", "40", "--json", Path.Combine(outDir, "s.json"));
        Assert.True(code == 0, error);
        var summary = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "s.json")))!;
        Assert.Equal(40, (int)summary["features"]!);
        Assert.True((int)summary["active_features"]! > 40);
    }

    [Theory]
    [InlineData("--method", "banana", "error: unknown graph method \"banana\": use replacement, gradient")]
    [InlineData("--ig-steps", "0", "error: --ig-steps must be positive, got 0")]
    [InlineData("--ig-steps", "1025", "error: --ig-steps must be at most 1024, got 1025")]
    [InlineData("--node-threshold", "0", "error: --node-threshold must lie in (0, 1], got 0")]
    [InlineData("--edge-threshold", "1.5", "error: --edge-threshold must lie in (0, 1], got 1.5")]
    [InlineData("--max-feature-nodes", "0", "error: --max-feature-nodes must be positive, got 0")]
    public void BadOptionsAreRefusedInOneLine(string option, string value, string expected)
    {
        var (code, _, error) = CliHarness.Run("graph", "--prompt", "The tower", "--model", CliHarness.Tarot, "--saes", Transcoders,
            "--out", Directory.CreateTempSubdirectory().FullName, option, value);
        Assert.Equal(2, code);
        Assert.StartsWith(expected, error.Trim());
        Assert.Single(error.Trim().Split('\n'));
    }

    [Fact]
    public void IntegratedGradientsIsAGraphMethodAndMeasuredBesideTheOthers()
    {
        var outDir = Directory.CreateTempSubdirectory("relp-graph-").FullName;
        var (code, _, error) = CliHarness.Run("graph", "--prompt", "The tower card means", "--model", CliHarness.Tarot, "--saes", Transcoders,
            "--out", outDir, "--method", "ig", "--ig-steps", "4", "--methods", "gradient,ig", "--json", Path.Combine(outDir, "s.json"));
        Assert.True(code == 0, error);
        Assert.Equal("ig", (string)JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "s.json")))!["method"]!);
        var results = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "results.json")))!;
        Assert.Equal("ig", (string)results["graph_method"]!);
        Assert.Equal(["ig", "gradient"], results["edges"]!["methods"]!.AsArray().Select(m => (string)m!["name"]!));
    }

    [Fact]
    public void APromptLongerThanTheContextIsRefused()
    {
        var (code, _, error) = CliHarness.Run("graph", "--prompt", string.Join(" ", Enumerable.Repeat("the tower", 80)), "--model", CliHarness.Tarot,
            "--saes", Transcoders, "--out", Directory.CreateTempSubdirectory().FullName);
        Assert.Equal(2, code);
        Assert.Matches(@"^error: a sequence of \d+ tokens is longer than the model's context of 64 \(n_positions\)$", error.Trim());
    }

    [Fact]
    public void OutOfTheBoxTheEmbeddedModelAndItsTranscodersMakeTheGraphWithItsViewerAndMeasuredEdges()
    {
        var outDir = Directory.CreateTempSubdirectory("relp-graph-").FullName;
        var (code, output, error) = CliHarness.Run("graph", "--prompt", "The Tower", "--out", outDir);
        Assert.True(code == 0, error);
        Assert.Contains("kept edges measured against patching", output);
        Assert.Equal(["graph-metadata.json", "graph.json", "index.html", "results.json"], Directory.GetFiles(outDir).Select(Path.GetFileName).Order());
        var graph = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "graph.json")))!;
        var list = graph["metadata"]!["transcoder_list"]!.AsArray().Select(t => (string)t!).ToList();
        Assert.Equal(4, list.Count);
        Assert.All(list, t => Assert.StartsWith(Path.GetFullPath(RelpSae.Cli.CliDefaults.EmbeddedTranscoders), t));
        // The embedded transcoders ship their dashboards: every feature node carries its own.
        var features = graph["nodes"]!.AsArray().Where(n => (string)n!["feature_type"]! == "cross layer transcoder").ToList();
        Assert.NotEmpty(features);
        Assert.All(features, n => Assert.Equal((int)n!["feature"]!, (int)n["dashboard"]!["feature_index"]!));
    }

    [Fact]
    public void AnEmptyPromptIsRefused()
    {
        var (code, _, error) = CliHarness.Run("graph", "--prompt", "", "--model", CliHarness.Tarot, "--saes", Transcoders,
            "--out", Directory.CreateTempSubdirectory().FullName);
        Assert.Equal(2, code);
        Assert.Equal("error: the prompt has no tokens", error.Trim());
    }

    [Fact]
    public void TranscodersForSomeMlpsOnlyAreRefused()
    {
        string layer = Path.Combine(Transcoders, "layer_0.safetensors");
        var (code, _, error) = CliHarness.Run("graph", "--prompt", "The tower", "--model", CliHarness.Tarot, "--saes", layer,
            "--out", Directory.CreateTempSubdirectory().FullName);
        Assert.Equal(2, code);
        Assert.Equal("error: an attribution graph needs a transcoder for every MLP: block 1 has none (1 of 4 given)", error.Trim());
    }
}
