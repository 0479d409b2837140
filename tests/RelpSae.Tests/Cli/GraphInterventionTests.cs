using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;

namespace RelpSae.Tests.Cli;

/// <summary>
/// <c>relp-sae graph --steer/--clamp/--ablate</c> on the tarot model with four random transcoders: the graph is of the clean
/// prompt and the intervention is recorded beside it — the logits it gives are attribute's under the same intervention, each
/// feature node's activation under it, and for a clamp the linear graph's prediction, which is the measured change to first
/// order where the model is linear to first order in the node (the exact gradient's graph, a last-layer feature).
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class GraphInterventionTests
{
    private static readonly string Transcoders = TestPaths.Data("graph-transcoders");
    private const string Ids = "50,180,91,12,77,140";

    private static JsonObject Graph(params string[] extra)
    {
        var outDir = Directory.CreateTempSubdirectory("relp-graph-intervene-").FullName;
        var (code, _, error) = CliHarness.Run(["graph", "--prompt-ids", Ids, "--model", CliHarness.Tarot, "--saes", Transcoders, "--out", outDir,
            "--methods", "none", .. extra]);
        Assert.True(code == 0, error);
        return JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "graph.json")))!.AsObject();
    }

    private static List<JsonObject> FeatureNodes(JsonObject graph) =>
        [.. graph["nodes"]!.AsArray().Select(n => n!.AsObject()).Where(n => (string)n["feature_type"]! == "cross layer transcoder")];

    private static string R(double x) => x.ToString("R", CultureInfo.InvariantCulture);

    [Fact]
    public void TheRecordedLogitsAreAttributesUnderTheSameClampAndTheNodesShowTheirActivationsUnderIt()
    {
        var clean = Graph();
        Assert.False(clean.ContainsKey("intervention"));
        // The most active layer-1 feature, clamped well above its value at every position.
        var node = FeatureNodes(clean).Where(n => (string)n["layer"]! == "1").MaxBy(n => (double)n["activation"]!)!;
        int feature = (int)node["feature"]!;
        string clamp = $"blocks.1.hook_mlp_out:{feature}=5";
        var graph = Graph("--clamp", clamp);
        var record = graph["intervention"]!.AsObject();
        Assert.Equal("clamp", (string)record["edits"]![0]!["kind"]!);
        Assert.True((bool)record["predicted"]!);

        // The same graph, the intervention beside it.
        Assert.Equal(clean["links"]!.ToJsonString(), graph["links"]!.ToJsonString());
        var nodes = FeatureNodes(graph);
        foreach (var n in nodes)
        {
            double activation = (double)n["activation"]!, intervened = (double)n["intervened_activation"]!;
            if ((string)n["layer"]! == "0") Assert.Equal(activation, intervened, 5);
            if ((string)n["layer"]! == "1" && (int)n["feature"]! == feature) Assert.Equal(5, intervened);
        }
        Assert.Contains(nodes, n => int.Parse((string)n["layer"]!) > 1 && Math.Abs((double)n["activation"]! - (double)n["intervened_activation"]!) > 1e-3);

        var transcoder = Path.Combine(Transcoders, "layer_1.safetensors");
        foreach (var logit in record["logits"]!.AsArray().Take(3))
        {
            int token = (int)logit!["token"]!;
            var (code, output, error) = CliHarness.Run("attribute", "--model", CliHarness.Tarot, "--sae", transcoder, "--prompt-ids", Ids,
                "--target", token.ToString(CultureInfo.InvariantCulture), "--metric", "logit", "--methods", "gradient", "--clamp", clamp, "--json", "-");
            Assert.True(code == 0, error);
            double attributed = JsonDocument.Parse(output).RootElement.GetProperty("metric").GetProperty("clean").GetDouble();
            Assert.Equal(attributed, (double)logit["intervened_logit"]!, 4);
        }
    }

    [Fact]
    public void TheJsonSummaryCarriesTheRecordedIntervention()
    {
        var outDir = Directory.CreateTempSubdirectory("relp-graph-intervene-").FullName;
        var (code, output, error) = CliHarness.Run("graph", "--prompt-ids", Ids, "--model", CliHarness.Tarot, "--saes", Transcoders, "--out", outDir,
            "--methods", "none", "--ablate", "blocks.1.hook_mlp_out:3", "--json", "-");
        Assert.True(code == 0, error);
        var summary = JsonNode.Parse(output[output.IndexOf('{')..])!;
        var graph = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "graph.json")))!;
        Assert.Equal(graph["intervention"]!.ToJsonString(), summary["intervention"]!.ToJsonString());
        Assert.Equal("ablate", (string)summary["intervention"]!["edits"]![0]!["kind"]!);
    }

    [Fact]
    public void AClampOfALastLayerFeatureIsPredictedToFirstOrderByTheExactGradientsGraph()
    {
        var clean = Graph("--method", "gradient");
        int last = Ids.Split(',').Length - 1;
        var node = FeatureNodes(clean).Where(n => (string)n["layer"]! == "3" && (int)n["ctx_idx"]! == last).MaxBy(n => (double)n["activation"]!)!;
        int feature = (int)node["feature"]!;
        double a = (double)node["activation"]!;
        double RelativeError(double scale)
        {
            var logits = Graph("--method", "gradient", "--clamp", $"blocks.3.hook_mlp_out:{feature}={R((float)(a * scale))}")["intervention"]!["logits"]!.AsArray()
                .Where(l => (bool)l!["in_graph"]!).ToList();
            double error = 0, size = 0;
            foreach (var l in logits)
            {
                error = Math.Max(error, Math.Abs((double)l!["predicted_delta"]! - (double)l["measured_delta"]!));
                size = Math.Max(size, Math.Abs((double)l["measured_delta"]!));
            }
            Assert.True(size > 0);
            return error / size;
        }
        // The final norm is the only thing between the node and the logits: the error is second order in the change.
        double small = RelativeError(1.01), large = RelativeError(1.1);
        Assert.True(small < 0.01, $"relative error {small} at a 1% change");
        Assert.True(small < large / 4, $"relative error {small} at 1%, {large} at 10%");
    }

    [Fact]
    public void SteeringIsMeasuredOnlyAndABadInterventionIsOneLine()
    {
        var record = Graph("--steer", "blocks.2.hook_mlp_out:3=4")["intervention"]!;
        Assert.False((bool)record["predicted"]!);
        Assert.All(record["logits"]!.AsArray(), l => Assert.Null(l!["predicted_delta"]));
        Assert.Contains(record["logits"]!.AsArray(), l => (double)l!["measured_delta"]! != 0);

        string[] graph = ["graph", "--prompt-ids", Ids, "--model", CliHarness.Tarot, "--saes", Transcoders, "--out", Directory.CreateTempSubdirectory().FullName];
        BadInputTests.AssertUserError([.. graph, "--ablate", "blocks.1.hook_resid_post:3"],
            "--ablate blocks.1.hook_resid_post:3: no dictionary at blocks.1.hook_resid_post; the dictionaries given are at blocks.0.hook_mlp_out");
        BadInputTests.AssertUserError([.. graph, "--clamp", "blocks.1.hook_mlp_out:3"], "--clamp blocks.1.hook_mlp_out:3: no =VALUE");
    }
}
