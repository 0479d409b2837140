using System.Text.Json;
using System.Text.Json.Nodes;
using RelpSae.Graphs;

namespace RelpSae.Tests.Cli;

/// <summary>
/// `graph` writes each measured method's faithfulness curve; `evaluate graphs` runs it over a prompt set: its edges block
/// has `graph`'s keys over the pooled edges, its curves are the means of the prompts', and shards merge, and a resumed run
/// continues, to the run made in one go.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class GraphEvaluateTests
{
    private static readonly string[] Methods = ["replacement", "gradient"];

    /// <summary>A fast run: 3 prompts, two methods, at most 64 feature nodes a graph.</summary>
    private static string[] Evaluate(string outDir, params string[] extra) =>
        ["evaluate", "graphs", "--n", "3", "--methods", string.Join(",", Methods), "--max-feature-nodes", "64", "--out", outDir, .. extra];

    private static JsonNode Results(string dir) => JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "results.json")))!;

    [Fact]
    public void GraphWritesAndPrintsEachMethodsFaithfulnessCurve()
    {
        var outDir = Directory.CreateTempSubdirectory("relp-graph-").FullName;
        var (code, output, error) = CliHarness.Run("graph", "--prompt", "The tower card means", "--out", outDir, "--methods", "gradient,replacement",
            "--max-feature-nodes", "64");
        Assert.True(code == 0, error);
        var curves = Results(outDir)["faithfulness"]!["methods"]!.AsArray();
        Assert.Equal(["replacement", "gradient"], curves.Select(c => (string)c!["name"]!));
        var lines = output.Split('\n');
        int heading = Array.FindIndex(lines, l => l.StartsWith("faithfulness of the pruned graphs at node thresholds 0.5 0.6 0.7 0.8 0.9 0.95 0.99 1", StringComparison.Ordinal));
        Assert.True(heading >= 0, output);
        foreach (var (c, line) in curves.Zip(lines[(heading + 1)..]))
        {
            var points = c!["points"]!.AsArray();
            Assert.Equal(GraphFaithfulness.DefaultThresholds, points.Select(p => (double)p!["node_threshold"]!));
            double model = (double)c["metric_model"]!, none = (double)c["metric_none_kept"]!;
            foreach (var p in points)
                Assert.Equal(GraphFaithfulness.Ratio((double)p!["metric"]!, model, none), (double)p["faithfulness"]!, 1e-12);
            Assert.StartsWith($"  {(string)c["name"]!} ", line);
            Assert.EndsWith($" ({(int)points[^1]!["feature_nodes"]!})", line.TrimEnd());
        }
    }

    [Fact]
    public void ResultsPoolThePromptsAndShardsMergeToTheSameRun()
    {
        var dir = Directory.CreateTempSubdirectory("relp-graphs-").FullName;
        var whole = Path.Combine(dir, "whole");
        var (code, output, error) = CliHarness.Run(Evaluate(whole));
        Assert.True(code == 0, error);
        Assert.Contains("mean faithfulness of the pruned graphs at node thresholds 0.5 0.6 0.7 0.8 0.9 0.95 0.99 1", output);
        var results = Results(whole);
        var raw = File.ReadAllLines(Path.Combine(whole, "graphs.jsonl"));
        Assert.Equal(3, raw.Length);
        var records = raw.Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal(records.Sum(r => r!["edge_truth"]!.AsArray().Count), (int)results["edges_measured"]!);
        Assert.Equal(results["edges_measured"]!.GetValue<int>(), (int)results["edges"]!["methods"]![0]!["all"]!["edges"]!);
        // graph's statistic keys, per method and edge type.
        var edges = results["edges"]!["methods"]!.AsArray();
        Assert.Equal(Methods, edges.Select(m => (string)m!["name"]!));
        Assert.All(new[] { "pearson", "pearson_ci95", "spearman", "sign_agreement", "relative_error_ci95" }, key => Assert.NotNull(edges[0]!["feature_to_logit"]![key]));
        // The mean curve: the ratio of the prompts' mean metrics.
        var mean = results["faithfulness"]!["methods"]![1]!;
        var prompts = records.Select(r => r!["faithfulness"]!["methods"]!.AsArray().Single(m => (string)m!["name"]! == "gradient")!).ToList();
        double model = prompts.Average(p => (double)p["metric_model"]!), none = prompts.Average(p => (double)p["metric_none_kept"]!);
        for (int i = 0; i < GraphFaithfulness.DefaultThresholds.Length; i++)
        {
            double kept = prompts.Average(p => (double)p["points"]![i]!["metric"]!);
            Assert.Equal((kept - none) / (model - none), (double)mean["points"]![i]!["faithfulness"]!, 1e-9);
        }
        Assert.True(File.ReadAllText(Path.Combine(whole, "report.html")).Contains("<table id=\"edges\">", StringComparison.Ordinal));

        var shards = new[] { "0/2", "1/2" }.Select(s => Path.Combine(dir, s.Replace('/', '-'))).ToArray();
        for (int i = 0; i < 2; i++) Assert.Equal(0, CliHarness.Run(Evaluate(shards[i], "--shard", $"{i}/2")).Code);
        var merged = Path.Combine(dir, "merged");
        (code, _, error) = CliHarness.Run(["merge", .. shards, "--out", merged]);
        Assert.True(code == 0, error);
        var mergedResults = Results(merged);
        foreach (var block in new[] { "edges", "faithfulness" })
            Assert.Equal(results[block]!.ToJsonString(), mergedResults[block]!.ToJsonString());

        // A shard whose record holds a curve of other thresholds cannot be averaged with the rest.
        var line = JsonNode.Parse(File.ReadAllText(Path.Combine(shards[1], "graphs.jsonl")))!;
        line["faithfulness"]!["methods"]![0]!["points"]!.AsArray().RemoveAt(0);
        File.WriteAllText(Path.Combine(shards[1], "graphs.jsonl"), line.ToJsonString() + "\n");
        BadInputTests.AssertUserError(["merge", .. shards, "--out", Path.Combine(dir, "merged2")],
            "prompt 1's graph record has replacement's curve at node thresholds 0.6,0.7,0.8,0.9,0.95,0.99,1, not 0.5,0.6,");
    }

    [Fact]
    public void ResumeEvaluatesOnlyTheMissingPrompts()
    {
        var dir = Path.Combine(Directory.CreateTempSubdirectory().FullName, "out");
        Assert.Equal(0, CliHarness.Run(Evaluate(dir)).Code);
        var path = Path.Combine(dir, "graphs.jsonl");
        var full = File.ReadAllLines(path);
        BadInputTests.AssertUserError(Evaluate(dir), "already holds results: pass --resume");
        // An interrupted run: its last prompt reached the disk only in part, and a finished one is marked to show it is not redone.
        var marked = full[0].Replace("\"seconds\":", "\"seconds\":1e6,\"was\":", StringComparison.Ordinal);
        File.WriteAllText(path, $"{marked}\n{full[1]}\n{full[2][..(full[2].Length / 2)]}");
        var (code, _, error) = CliHarness.Run(Evaluate(dir, "--resume"));
        Assert.Equal(0, code);
        Assert.Contains("ended in a record cut short by the interruption: removed, its prompt is evaluated again", error);
        var resumed = File.ReadAllLines(path);
        Assert.Equal(3, resumed.Length);
        Assert.Equal(1e6, JsonDocument.Parse(resumed[0]).RootElement.GetProperty("seconds").GetDouble());
        Assert.Equal(Prompt(full[2]), Prompt(resumed[2]));
        BadInputTests.AssertUserError([.. Evaluate(dir, "--resume"), "--node-threshold", "0.7"], "--resume: the run in");
        BadInputTests.AssertUserError(["evaluate", "--circuit", "--task", "contrastive", "--n", "1", "--out", dir],
            "holds results of evaluate --graphs: choose another --out");
    }

    private static string Prompt(string jsonLine) => JsonDocument.Parse(jsonLine).RootElement.GetProperty("prompt").GetString()!;

    [Theory]
    [InlineData("--node-threshold must lie in (0, 1], got 0", "evaluate", "graphs", "--node-threshold", "0")]
    [InlineData("--max-feature-nodes must be positive, got 0", "evaluate", "graphs", "--max-feature-nodes", "0")]
    [InlineData("--methods none measures nothing", "evaluate", "graphs", "--methods", "none")]
    [InlineData("--methods: unknown graph method \"banana\"", "evaluate", "graphs", "--methods", "replacement,banana")]
    [InlineData("--metric is not read by --graphs", "evaluate", "--graphs", "--metric", "logit")]
    [InlineData("give --circuit or --graphs, not both", "evaluate", "--graphs", "--circuit")]
    [InlineData("--edge-threshold needs --graphs", "evaluate", "--edge-threshold", "0.5")]
    [InlineData("--graphs reads the transcoders of --saes", "evaluate", "--graphs", "--sae", "x")]
    [InlineData("--ig-steps must be positive, got 0", "evaluate", "graphs", "--methods", "replacement,ig", "--ig-steps", "0")]
    public void BadOptionsAreOneLineErrors(string expected, params string[] args) =>
        BadInputTests.AssertUserError([.. args, "--n", "1", "--out", Path.Combine(Directory.CreateTempSubdirectory().FullName, "out")], expected);

    [Fact]
    public void IntegratedGradientsIsEvaluatedWithItsSteps()
    {
        var dir = Directory.CreateTempSubdirectory("relp-graphs-").FullName;
        var (code, _, error) = CliHarness.Run("evaluate", "graphs", "--n", "1", "--methods", "replacement,ig", "--ig-steps", "2", "--max-feature-nodes", "16",
            "--saes", TestPaths.Data("graph-transcoders"), "--out", dir);
        Assert.True(code == 0, error);
        Assert.Equal(2, (int)JsonNode.Parse(File.ReadAllText(Path.Combine(dir, "evaluation_settings.json")))!["ig_steps"]!);
        Assert.Contains(Results(dir)["faithfulness"]!["methods"]!.AsArray(), m => (string)m!["name"]! == "ig");
    }

    [Fact]
    public void EvaluateWithGraphsIsTheGraphsProtocol()
    {
        var dir = Directory.CreateTempSubdirectory("relp-graphs-").FullName;
        string[] args = ["--n", "1", "--methods", "gradient", "--max-feature-nodes", "32", "--saes", TestPaths.Data("graph-transcoders")];
        Assert.Equal(0, CliHarness.Run(["evaluate", "graphs", .. args, "--out", Path.Combine(dir, "a")]).Code);
        Assert.Equal(0, CliHarness.Run(["evaluate", "--graphs", .. args, "--out", Path.Combine(dir, "b")]).Code);
        Assert.Equal(Results(Path.Combine(dir, "a"))["edges"]!.ToJsonString(), Results(Path.Combine(dir, "b"))["edges"]!.ToJsonString());
        foreach (var run in new[] { "a", "b" })
        {
            var settings = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, run, "evaluation_settings.json")))!;
            Assert.Equal("gradient", (string)settings["methods"]!);
            Assert.Contains("graph-transcoders", (string)settings["sae"]!);
        }
    }
}
