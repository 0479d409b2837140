using System.Text.Json;

namespace RelpSae.Tests.Cli;

/// <summary>`evaluate --circuit` and `attribute --saes` end to end on the embedded model and per-block SAEs.</summary>
[Collection(nameof(ConsoleCollection))]
public class CircuitEvaluateTests
{
    private static readonly string[] Methods = ["gradient", "ig", "relp", "relp-ah", "attnlrp"];

    /// <summary>No --model and no --saes: the embedded model with its SAE at every block, as on a fresh clone.</summary>
    private static string[] Evaluate(string outDir, params string[] extra) =>
        ["evaluate", "--circuit", "--task", "contrastive", "--n", "3", "--methods", string.Join(",", Methods), "--ig-steps", "2", "--out", outDir, .. extra];

    [Fact]
    public void ResultsJsonHasACircuitBlockAndShardsMergeToTheSameCurves()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        var whole = Path.Combine(dir, "whole");
        var (code, output, error) = CliHarness.Run(Evaluate(whole));
        Assert.True(code == 0, error);
        Assert.Contains("3 prompts, 2052 nodes", output);
        var root = JsonDocument.Parse(File.ReadAllText(Path.Combine(whole, "results.json"))).RootElement;
        Assert.Equal("circuit", root.GetProperty("level").GetString());
        Assert.Equal(3, root.GetProperty("prompts").GetInt32());
        var circuit = root.GetProperty("circuit");
        Assert.Equal(Enumerable.Range(0, 4).Select(l => $"blocks.{l}.hook_resid_post"), circuit.GetProperty("hooks").EnumerateArray().Select(h => h.GetString()));
        Assert.Equal("corrupt", circuit.GetProperty("baseline").GetString());
        // Four SAEs of 512 features, each with its error node.
        Assert.Equal(4 * 513, circuit.GetProperty("nodes").GetInt32());
        int[] grid = [1, 2, 4, 8, 16, 32, 64, 128, 256, 512, 1024, 2048, 2052];
        foreach (var m in Methods)
        {
            var s = circuit.GetProperty("methods").GetProperty(m);
            Assert.Equal(grid, s.GetProperty("n").EnumerateArray().Select(x => x.GetInt32()));
            var f = s.GetProperty("faithfulness").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            var c = s.GetProperty("completeness").EnumerateArray().Select(x => x.GetDouble()).ToArray();
            Assert.Equal(grid.Length, f.Length);
            Assert.Equal(grid.Length, c.Length);
            Assert.Equal(1.0, f[^1]);
            Assert.Equal(0.0, c[^1]);
            foreach (var area in new[] { "faithfulness_area", "completeness_area" })
            {
                Assert.InRange(s.GetProperty(area).GetDouble(), -1, 2);
                Assert.Equal(2, s.GetProperty(area + "_ci95").GetArrayLength());
            }
            Assert.Contains(s.GetProperty("n_at_threshold").GetDouble(), grid.Select(n => (double)n));
            Assert.True(s.GetProperty("score_seconds_per_prompt").GetDouble() > 0);
            Assert.True(s.GetProperty("ablation_seconds_per_prompt").GetDouble() > 0);
            Assert.StartsWith("prompt,n,faithfulness,completeness", File.ReadAllText(Path.Combine(whole, $"{m}.csv")));
        }
        var report = File.ReadAllText(Path.Combine(whole, "report.html"));
        Assert.Equal(2, report.Split("<svg").Length - 1);                       // faithfulness and completeness
        Assert.Equal(2 * Methods.Length, report.Split("<polyline").Length - 1); // one line per method in each

        var shards = new[] { "0/2", "1/2" }.Select(s => Path.Combine(dir, s.Replace('/', '-'))).ToArray();
        for (int i = 0; i < 2; i++) Assert.Equal(0, CliHarness.Run(Evaluate(shards[i], "--shard", $"{i}/2")).Code);
        var merged = Path.Combine(dir, "merged");
        Assert.Equal(0, CliHarness.Run(["merge", .. shards, "--out", merged]).Code);
        var m2 = JsonDocument.Parse(File.ReadAllText(Path.Combine(merged, "results.json"))).RootElement.GetProperty("circuit").GetProperty("methods");
        foreach (var m in Methods)
            Assert.Equal(circuit.GetProperty("methods").GetProperty(m).GetProperty("faithfulness").EnumerateArray().Select(x => x.GetDouble()),
                m2.GetProperty(m).GetProperty("faithfulness").EnumerateArray().Select(x => x.GetDouble()));
    }

    [Fact]
    public void ResumeEvaluatesOnlyTheMissingPromptsAndOtherProtocolsKeepOut()
    {
        var dir = Path.Combine(Directory.CreateTempSubdirectory().FullName, "out");
        string[] Run(string n, params string[] extra) =>
            ["evaluate", "--circuit", "--task", "contrastive", "--n", n, "--methods", "gradient,relp", "--out", dir, .. extra];
        Assert.Equal(0, CliHarness.Run(Run("3")).Code);
        var full = File.ReadAllLines(Path.Combine(dir, "circuit.jsonl"));
        BadInputTests.AssertUserError(Run("3"), "already holds results: pass --resume");
        // An interrupted run: its last prompt never reached the disk.
        File.WriteAllLines(Path.Combine(dir, "circuit.jsonl"), full[..2]);
        Assert.Equal(0, CliHarness.Run(Run("3", "--resume")).Code);
        var resumed = File.ReadAllLines(Path.Combine(dir, "circuit.jsonl"));
        Assert.Equal(3, resumed.Length);
        Assert.Equal(full[..2], resumed[..2]);   // the first two prompts were read back, not evaluated again
        Assert.Equal(Prompt(full[2]), Prompt(resumed[2]));
        BadInputTests.AssertUserError(["evaluate", "--circuit", "--task", "contrastive", "--n", "3", "--methods", "gradient,ig", "--out", dir, "--resume"],
            "--resume: the run in");
        BadInputTests.AssertUserError(["evaluate", "--level", "components", "--task", "contrastive", "--n", "1", "--out", dir],
            "holds results of evaluate --circuit: choose another --out");
    }

    private static string Prompt(string jsonLine) => JsonDocument.Parse(jsonLine).RootElement.GetProperty("prompt").GetString()!;

    [Fact]
    public void TwoSaesAtOneHookOrTheWrongWidthAreOneLineErrors()
    {
        var (a, b) = (CliHarness.RandomSae("blocks.1.hook_resid_post"), CliHarness.RandomSae("blocks.1.hook_resid_post"));
        var outDir = Path.Combine(Directory.CreateTempSubdirectory().FullName, "out");
        BadInputTests.AssertUserError(["evaluate", "--circuit", "--model", CliHarness.Tarot, "--saes", $"{a},{b}", "--out", outDir],
            $"two dictionaries replace blocks.1.hook_resid_post: {a} and {b}; splice at most one per site");
        BadInputTests.AssertUserError(["evaluate", "--circuit", "--model", CliHarness.Tarot, "--sae", a, "--out", outDir],
            "--circuit splices the SAEs of --saes");
        BadInputTests.AssertUserError(["evaluate", "--circuit", "--model", CliHarness.Tarot, "--saes", a, "--batch", "8", "--out", outDir],
            "--batch sizes feature and component patching");
        var narrow = CliHarness.RandomSae("blocks.0.hook_resid_post", dIn: 64);
        BadInputTests.AssertUserError(["evaluate", "--circuit", "--model", CliHarness.Tarot, "--saes", $"{a},{narrow}", "--out", outDir],
            $"{narrow}: the SAE is 64 wide but blocks.0.hook_resid_post holds 128 values a position (n_embd)");
        BadInputTests.AssertUserError(["evaluate", "--circuit", "--model", CliHarness.Tarot, "--saes", outDir, "--out", outDir], "SAE folder not found");
        BadInputTests.AssertUserError(["evaluate", "--saes", a, "--out", outDir], "--saes and --per-position need --circuit");
    }

    [Fact]
    public void AttributeWithSeveralSaesListsTopNodesAcrossHooks()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        var (json, dot) = (Path.Combine(dir, "nodes.json"), Path.Combine(dir, "circuit.dot"));
        var (code, output, error) = CliHarness.Run(["attribute", "--saes", CliDefaultsSaes, "--prompt", "Your money will", "--corrupt", "Your work will",
            "--methods", "gradient,relp", "--top", "8", "--per-position", "--json", json, "--dot", dot]);
        Assert.True(code == 0, error);
        var root = JsonDocument.Parse(File.ReadAllText(json)).RootElement;
        Assert.Equal(4, root.GetProperty("hooks").GetArrayLength());
        int tokens = root.GetProperty("tokens").GetArrayLength();
        Assert.Equal(4 * 513 * tokens, root.GetProperty("nodes").GetInt32());
        Assert.Contains($"{4 * 513 * tokens} nodes (per position)", output);
        Assert.Matches("metric    logit \"[^\"]+\" \\(\\d+\\) − logit \"[^\"]+\" \\(\\d+\\) = ", output);   // token text, as attribute without --saes shows it
        foreach (var m in root.GetProperty("methods").EnumerateArray())
        {
            var top = m.GetProperty("top").EnumerateArray().ToList();
            Assert.Equal(8, top.Count);
            var scores = top.Select(t => Math.Abs(t.GetProperty("score").GetDouble())).ToList();
            Assert.Equal(scores.OrderDescending(), scores);
            Assert.All(top, t => Assert.InRange(t.GetProperty("position").GetInt32(), 0, tokens - 1));
            Assert.All(top, t => Assert.StartsWith("blocks.", t.GetProperty("hook").GetString()));
        }
        Assert.StartsWith("digraph circuit {", File.ReadAllText(dot));
    }

    private static string CliDefaultsSaes => RelpSae.Cli.SaeSetOptions.EmbeddedSaes;
}
