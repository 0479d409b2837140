using System.Text.Json.Nodes;
using RelpSae.Attribution;
using RelpSae.Cli.Commands;
using RelpSae.Sae;
using RelpSae.Tests.Sae;

namespace RelpSae.Tests.Cli;

/// <summary>
/// Absurd option values and crafted files through the command line: a one-line error and exit code 2
/// (never "internal error", exit 70), refused before the work they would have cost.
/// </summary>
[Collection(nameof(ConsoleCollection))]
public class HostileOptionTests
{
    private static readonly Lazy<string> Sae = new(() => CliHarness.RandomSae());

    internal static void AssertUserError(string[] args, params string[] expected)
    {
        var (code, _, error) = CliHarness.Run(args);
        Assert.True(code == 2, $"exit {code}: {error}");
        var lines = error.Split('\n', StringSplitOptions.RemoveEmptyEntries);
        Assert.Single(lines);
        Assert.StartsWith("error: ", lines[0]);
        foreach (var e in expected) Assert.Contains(e, lines[0]);
    }

    private static string Temp() => Directory.CreateTempSubdirectory("relpsae-hostile-cli").FullName;

    private static string[] Attribute(params string[] extra) => ["attribute", "--model", CliHarness.Tarot, "--sae", Sae.Value, "--prompt", "Love", .. extra];

    [Theory]
    [InlineData("midpoint", "1000000000")]
    [InlineData("gauss-legendre", "200000")]
    public void IgStepsBeyondTheDocumentedMaximum(string rule, string steps) =>
        AssertUserError(Attribute("--ig-rule", rule, "--ig-steps", steps), $"--ig-steps must be at most {IntegratedGradients.MaxSteps}, got {steps}");

    [Fact]
    public void GaussLegendreAtTheMaximumIsExactForPolynomials()
    {
        // n nodes integrate polynomials of degree 2n − 1 exactly: ∫₀¹ x⁷ dx = 1/8 at every n ≥ 4.
        var (nodes, weights) = Quadrature.Create(QuadratureRule.GaussLegendre, IntegratedGradients.MaxSteps);
        Assert.Equal(1.0, weights.Sum(), 10);
        Assert.Equal(0.125, nodes.Zip(weights, (x, w) => w * Math.Pow(x, 7)).Sum(), 10);
    }

    [Theory]
    [InlineData("1000", "--patch-position 1000 is outside a prompt of")]
    [InlineData("-7", "--patch-position -7 is outside a prompt of")]
    public void PatchPositionOutsideThePromptLeavesNoOutputFolder(string position, string expected)
    {
        var outDir = Path.Combine(Temp(), "eval");
        AssertUserError(["evaluate", "--model", CliHarness.Tarot, "--sae", Sae.Value, "--out", outDir, "--n", "2", "--methods", "gradient",
            "--patch-position", position], expected);
        Assert.False(Directory.Exists(outDir));
    }

    [Fact]
    public void GenerateTokensThatOverflow() =>
        AssertUserError(["generate", "--model", CliHarness.Tarot, "--prompt", "Love", "--tokens", "2147483647"], "--tokens 2147483647", "exceeds the model's context");

    [Fact]
    public void NearZeroTemperatureIsGreedy()
    {
        var greedy = CliHarness.Run("generate", "--model", CliHarness.Tarot, "--prompt", "Love", "--tokens", "8", "--json");
        var cold = CliHarness.Run("generate", "--model", CliHarness.Tarot, "--prompt", "Love", "--tokens", "8", "--json", "--temperature", "1e-45");
        Assert.Equal(0, cold.Code);
        Assert.Equal(JsonNode.Parse(greedy.Out)!["generated_ids"]!.ToJsonString(), JsonNode.Parse(cold.Out)!["generated_ids"]!.ToJsonString());
    }

    [Fact]
    public void HugeConfigWidthAndSaeWidthAreUserErrors()
    {
        var model = Temp();
        var config = JsonNode.Parse(File.ReadAllText(Path.Combine(CliHarness.Tarot, "config.json")))!.AsObject();
        config["n_embd"] = 1_000_000_000;
        config["n_head"] = 1;
        File.WriteAllText(Path.Combine(model, "config.json"), config.ToJsonString());
        File.Copy(Path.Combine(CliHarness.Tarot, "tokenizer.json"), Path.Combine(model, "tokenizer.json"));
        AssertUserError(["attribute", "--model", model, "--sae", Sae.Value, "--prompt", "Love"], "n_embd 1000000000");

        var sae = CliHarness.RandomSae();
        var cfg = JsonNode.Parse(File.ReadAllText(Path.Combine(sae, SaeFiles.ConfigFile)))!.AsObject();
        cfg["d_sae"] = 20_000_000;
        File.WriteAllText(Path.Combine(sae, SaeFiles.ConfigFile), cfg.ToJsonString());
        AssertUserError(["attribute", "--model", CliHarness.Tarot, "--sae", sae, "--prompt", "Love"], "d_sae 20000000");
    }

    [Fact]
    public void ShuffleRowsBeyondOneBuffer() =>
        AssertUserError(SaeCommandsTests.Train(TarotText.WriteFile(), Path.Combine(Temp(), "sae"), "--shuffle-rows", "1000000000"),
            "--shuffle-rows 1000000000", "more than one buffer can hold");

    [Fact]
    public void TruncatedRunRecordOnResume()
    {
        var outDir = Temp();
        File.WriteAllBytes(Path.Combine(outDir, RelpSae.Sae.SaeTrainingRun.CheckpointFile), []);
        File.WriteAllText(Path.Combine(outDir, RelpSae.Sae.SaeTrainingFolder.RunFile), "{\"hook\": \"blocks.2.hook_res");
        AssertUserError(SaeCommandsTests.Train(TarotText.WriteFile(), outDir, "--resume"), RelpSae.Sae.SaeTrainingFolder.RunFile, "not valid JSON");
    }

    [Fact]
    public void PromptsWithLoneSurrogatesOrReplacementCharacters()
    {
        var prompts = Path.Combine(Temp(), "p.jsonl");
        File.WriteAllText(prompts, "{\"prompt\": \"Love \\ud800\"}\n");
        AssertUserError(["evaluate", "--model", CliHarness.Tarot, "--sae", Sae.Value, "--out", Path.Combine(Temp(), "e"), "--prompts", prompts], "p.jsonl:1", "lone surrogate");
        AssertUserError(Attribute("--target", " l\uFFFDve"), "--target holds U+FFFD");
    }

    [Fact]
    public void AHugePromptIsCutInTheMessage()
    {
        var prompts = Path.Combine(Temp(), "long.jsonl");
        File.WriteAllText(prompts, $"{{\"prompt\": \"{string.Concat(Enumerable.Repeat("Love the moon. ", 20_000))}\", \"target\": \" Towering\"}}\n");
        var (code, _, error) = CliHarness.Run("evaluate", "--model", CliHarness.Tarot, "--sae", Sae.Value, "--out", Path.Combine(Temp(), "e"), "--prompts", prompts);
        Assert.Equal(2, code);
        Assert.Contains("prompt 0 (\"Love the moon.", error);
        Assert.Contains("(300000 characters)", error);
        Assert.True(error.Length < 600, $"{error.Length} characters");
    }
}
