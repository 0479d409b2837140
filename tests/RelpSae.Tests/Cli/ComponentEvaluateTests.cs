using System.Text.Json;

namespace RelpSae.Tests.Cli;

/// <summary>`evaluate --level components` end to end on the tarot model: the results.json shape, shards and merge, bad options.</summary>
[Collection(nameof(ConsoleCollection))]
public class ComponentEvaluateTests
{
    private static readonly string[] Types = ["resid_pre", "attn_out", "mlp_out", "head"];
    private static readonly string[] Methods = ["gradient", "ig", "relp", "relp-ah", "attnlrp"];

    private static string[] Evaluate(string outDir, params string[] extra) =>
        ["evaluate", "--level", "components", "--model", CliHarness.Tarot, "--task", "contrastive", "--n", "2",
         "--methods", string.Join(",", Methods), "--ig-steps", "2", "--out", outDir, .. extra];

    [Fact]
    public void ResultsJsonHasAComponentsBlockAndShardsMergeToTheSameNumbers()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        var whole = Path.Combine(dir, "whole");
        var (code, output, error) = CliHarness.Run(Evaluate(whole));
        Assert.True(code == 0, error);
        Assert.Contains("2 prompts", output);
        var root = JsonDocument.Parse(File.ReadAllText(Path.Combine(whole, "results.json"))).RootElement;
        Assert.Equal("components", root.GetProperty("level").GetString());
        Assert.Equal(2, root.GetProperty("prompts").GetInt32());
        var components = root.GetProperty("components");
        // Every patch belongs to one type: the per-type counts add up to the total.
        Assert.Equal(root.GetProperty("patches").GetInt32(), Types.Sum(t => components.GetProperty(t).GetProperty("patches").GetInt32()));
        foreach (var type in Types)
        {
            var block = components.GetProperty(type);
            Assert.True(block.GetProperty("patches").GetInt32() > 0);
            foreach (var m in Methods)
            {
                var s = block.GetProperty("methods").GetProperty(m);
                foreach (var stat in new[] { "pearson", "spearman", "sign_agreement" })
                {
                    Assert.InRange(s.GetProperty(stat).GetDouble(), -1, 1);
                    Assert.Equal(2, s.GetProperty(stat + "_ci95").GetArrayLength());
                }
            }
        }
        var rules = root.GetProperty("methods").EnumerateArray().ToDictionary(m => m.GetProperty("name").GetString()!, m => m.GetProperty("rules").GetString());
        Assert.Equal("ln+identity+half (half: no gated MLP in this model)", rules["relp"]);
        Assert.Equal("ln+identity+half-attn", rules["attnlrp"]);
        Assert.True(root.GetProperty("ground_truth_seconds_per_prompt").GetDouble() > 0);
        Assert.True(root.GetProperty("forward_seconds_per_prompt").GetDouble() > 0);
        foreach (var m in Methods) Assert.True(File.Exists(Path.Combine(whole, $"{m}.csv")));
        Assert.Contains("residual (resid_pre)", File.ReadAllText(Path.Combine(whole, "report.html")));

        var shards = new[] { "0/2", "1/2" }.Select(s => Path.Combine(dir, s.Replace('/', '-'))).ToArray();
        for (int i = 0; i < 2; i++) Assert.Equal(0, CliHarness.Run(Evaluate(shards[i], "--shard", $"{i}/2")).Code);
        var merged = Path.Combine(dir, "merged");
        Assert.Equal(0, CliHarness.Run(["merge", .. shards, "--out", merged]).Code);
        var m2 = JsonDocument.Parse(File.ReadAllText(Path.Combine(merged, "results.json"))).RootElement.GetProperty("components");
        foreach (var type in Types)
            foreach (var m in Methods)
                Assert.Equal(components.GetProperty(type).GetProperty("methods").GetProperty(m).GetProperty("pearson").GetDouble(),
                    m2.GetProperty(type).GetProperty("methods").GetProperty(m).GetProperty("pearson").GetDouble(), 12);

        AssertUserError(["evaluate", "--model", CliHarness.Tarot, "--sae", CliHarness.RandomSae(), "--out", whole, "--resume"], "holds results of evaluate --level components");

        // Resuming a finished run evaluates nothing again and writes the same statistics.
        Assert.Equal(0, CliHarness.Run(Evaluate(whole, "--resume")).Code);
        var again = JsonDocument.Parse(File.ReadAllText(Path.Combine(whole, "results.json"))).RootElement.GetProperty("components");
        Assert.Equal(components.GetProperty("head").GetProperty("patches").GetInt32(), again.GetProperty("head").GetProperty("patches").GetInt32());
    }

    private static void AssertUserError(string[] args, string expected)
    {
        var (code, _, error) = CliHarness.Run(args);
        Assert.Equal(2, code);
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.Contains(expected, lines[0]);
    }

    [Fact]
    public void BadLevelAndComponentsTheModelLacksAreOneLineErrors()
    {
        var dir = Path.Combine(Directory.CreateTempSubdirectory().FullName, "out");
        AssertUserError(["evaluate", "--model", CliHarness.Tarot, "--level", "neurons", "--out", dir], "--level must be features or components, got \"neurons\"");
        AssertUserError(Evaluate(dir, "--components", "blocks.7.hook_mlp_out"), "no hook point \"blocks.7.hook_mlp_out\"");
        AssertUserError(Evaluate(dir, "--components", "mlp_out,gate_up"), "no component \"gate_up\"");
        AssertUserError(Evaluate(dir, "--components", "blocks.1.attn.hook_pattern"), "not a patched component");
        AssertUserError(Evaluate(dir, "--baseline", "zero"), "--baseline must be auto or corrupt");
        var prompts = Path.Combine(Path.GetDirectoryName(dir)!, "p.jsonl");
        File.WriteAllText(prompts, "{\"prompt\": \"Your money will\"}\n");
        AssertUserError(["evaluate", "--level", "components", "--model", CliHarness.Tarot, "--prompts", prompts, "--out", dir], "has no corrupted prompt");
    }
}
