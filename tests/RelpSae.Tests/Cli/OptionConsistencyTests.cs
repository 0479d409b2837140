using System.CommandLine;
using RelpSae.Cli;

namespace RelpSae.Tests.Cli;

/// <summary>Options mean the same in every command, and help states their defaults truly.</summary>
[Collection(nameof(ConsoleCollection))]
public class OptionConsistencyTests
{
    private static IEnumerable<Command> Commands() => CliApp.Build().Subcommands;

    [Fact]
    public void JsonTakesAFileInEveryCommandThatHasIt()
    {
        var withJson = Commands().Where(c => c.Options.Any(o => o.Name == "--json")).Select(c => c.Name).ToList();
        Assert.Superset(new HashSet<string> { "attribute", "evaluate", "eval-sae", "train-sae", "generate", "tokenize", "bench" }, withJson.ToHashSet());
        foreach (var command in Commands())
            foreach (var option in command.Options.Where(o => o.Name == "--json"))
                Assert.True(option.ValueType == typeof(string), $"{command.Name} --json is a {option.ValueType.Name}");
    }

    /// <summary>With <c>--json -</c> standard output is one JSON document (it pipes into a JSON reader); the tables go to stderr.</summary>
    [Theory]
    [InlineData("attribute", "--prompt", "The Tower")]
    [InlineData("eval-sae", "--tokens", "150")]
    [InlineData("evaluate", "--n", "2", "--methods", "gradient")]
    [InlineData("evaluate", "components", "--n", "2", "--methods", "gradient")]
    public void JsonToStandardOutputIsAloneThere(params string[] args)
    {
        string[] extra = args[0] == "evaluate" ? ["--out", Directory.CreateTempSubdirectory().FullName]
            : args[0] == "eval-sae" ? ["--data", Sae.TarotText.WriteFile(), "--sae", CliHarness.RandomSae()] : [];
        var (code, output, error) = CliHarness.Run([.. args, .. extra, "--json", "-"]);
        Assert.True(code == 0, error);
        Assert.True(output.Length > 2 && output.EndsWith('\n'), output);
        Assert.NotNull(System.Text.Json.Nodes.JsonNode.Parse(output));
        Assert.NotEmpty(error.Trim());   // the human-readable summary went to stderr
    }

    [Fact]
    public void JsonFilesEndWithANewline()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory().FullName, "out.json");
        var (code, _, error) = CliHarness.Run("attribute", "--prompt", "The Tower", "--methods", "gradient", "--json", path);
        Assert.True(code == 0, error);
        Assert.EndsWith("}\n", File.ReadAllText(path));
        // The weights' size once packed, as the estimate from the headers gives it.
        Assert.Equal(RelpSae.Model.MemoryEstimate.Of(Path.Combine(AppContext.BaseDirectory, "models", "default", "model")).TotalBytes,
            System.Text.Json.JsonDocument.Parse(File.ReadAllText(path)).RootElement.GetProperty("weights_bytes").GetInt64());
    }

    [Fact]
    public void GenerateWritesJsonToAFileAndPrintsTheText()
    {
        var path = Path.Combine(Directory.CreateTempSubdirectory().FullName, "out.json");
        var (code, output, error) = CliHarness.Run("generate", "--model", CliHarness.Tarot, "--prompt", "Love", "--tokens", "2", "--json", path);
        Assert.True(code == 0, error);
        Assert.StartsWith("Love", output);
        Assert.StartsWith("{\"prompt_ids\":[44,79,296],\"generated_ids\":[271,724]", File.ReadAllText(path));
    }

    [Fact]
    public void HelpStatesOnOffDefaultsAndNoBuildPathsOrUnicodeMinus()
    {
        foreach (var command in Commands())
        {
            var (code, output, _) = CliHarness.Run(command.Name, "--help");
            Assert.Equal(0, code);
            Assert.DoesNotContain(AppContext.BaseDirectory.TrimEnd('/'), output);
            Assert.DoesNotContain("\u2212", output);
            Assert.DoesNotContain("Default:", output); // one style: [default: ...]
            Assert.DoesNotContain("(default:", output);
            foreach (var flag in command.Options.OfType<Option<bool>>().Where(o => !o.Recursive && o.Name != "--help"))
                Assert.Matches($@"{flag.Name}\s.*\[default: (on|off)", output);
        }
        Assert.Matches(@"--prepend-bos\s.*\[default: on", CliHarness.Run("train-sae", "--help").Out);
        Assert.Matches(@"--prepend-bos\s.*\[default: off\]", CliHarness.Run("attribute", "--help").Out);
    }

    [Fact]
    public void MergeOfAMissingFolderIsOneLineNamingIt()
    {
        var (code, _, error) = CliHarness.Run("merge", "/nonexistent/shard0", "--out", Path.Combine(Path.GetTempPath(), "never"));
        Assert.Equal(2, code);
        Assert.Equal("error: merge: shard folder not found: /nonexistent/shard0", error.Trim());
    }
}
