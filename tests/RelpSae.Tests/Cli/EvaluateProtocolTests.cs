namespace RelpSae.Tests.Cli;

/// <summary>`evaluate features|components|circuit`: each protocol's command takes its own options; --json as everywhere.</summary>
[Collection(nameof(ConsoleCollection))]
public class EvaluateProtocolTests
{
    private static string Out() => Path.Combine(Directory.CreateTempSubdirectory().FullName, "out");

    [Fact]
    public void AProtocolsCommandRefusesAnotherProtocolsOption()
    {
        BadInputTests.AssertUserError(["evaluate", "components", "--sae", CliHarness.RandomSae(), "--out", Out()],
            "Unrecognized command or argument '--sae' (see relp-sae evaluate components --help)");
        BadInputTests.AssertUserError(["evaluate", "circuit", "--batch", "8", "--out", Out()], "Unrecognized command or argument '--batch'");
        BadInputTests.AssertUserError(["evaluate", "features", "--saes", CliHarness.RandomSae(), "--out", Out()], "Unrecognized command or argument '--saes'");
    }

    [Fact]
    public void EvaluateWithLevelRefusesWhatItsProtocolDoesNotRead()
    {
        BadInputTests.AssertUserError(["evaluate", "--level", "components", "--sae", CliHarness.RandomSae(), "--out", Out()], "no SAE is involved, so leave out --sae");
        BadInputTests.AssertUserError(["evaluate", "--components", "mlp_out", "--out", Out()], "--components needs --level components");
    }

    [Fact]
    public void OptionsBeforeTheProtocolAreRefusedNotDropped() =>
        BadInputTests.AssertUserError(["evaluate", "--n", "3", "components", "--out", Out()], "give the options after the protocol: relp-sae evaluate components [options]");

    [Fact]
    public void JsonWritesResultsJsonsSummaryAsInEveryCommand()
    {
        var (outDir, json) = (Out(), Path.Combine(Directory.CreateTempSubdirectory().FullName, "r.json"));
        var (code, output, error) = CliHarness.Run("evaluate", "components", "--model", CliHarness.Tarot, "--task", "contrastive", "--n", "2",
            "--methods", "gradient", "--out", outDir, "--json", json);
        Assert.True(code == 0, error);
        Assert.Contains("2 prompts", output);
        Assert.Equal(File.ReadAllText(Path.Combine(outDir, "results.json")), File.ReadAllText(json));
        Assert.Contains("\"level\": \"components\"", File.ReadAllText(json));
    }
}
