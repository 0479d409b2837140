using System.Text.Json;

namespace RelpSae.Tests.Model;

/// <summary><c>generate</c> on a model of each family, from token ids (the fixtures have no tokenizer of their own).</summary>
[Collection(nameof(Cli.ConsoleCollection))]
public class GenerateOnFamiliesTests
{
    private static (int Code, string Output) Run(string folder, params string[] args)
    {
        var (code, output, error) = Cli.CliHarness.Run(["generate", "--model", TestPaths.Data(folder), .. args]);
        return (code, output + error);
    }

    [Fact]
    public void StoriesGreedyIdsFromBosAreTheFixturesReference()
    {
        var (rc, output) = Run("stories260K-llama", "--prompt-ids", "1", "--tokens", "10", "--json");
        Assert.True(rc == 0, output);
        using var doc = JsonDocument.Parse(output);
        Assert.Equal([461, 461, 401, 401, 401, 461, 378, 455, 473, 456], doc.RootElement.GetProperty("generated_ids").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([1], doc.RootElement.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal(JsonValueKind.Null, doc.RootElement.GetProperty("text").ValueKind);
    }

    public static TheoryData<string> Models => Families.Folders();

    [Theory]
    [MemberData(nameof(Models))]
    public void EveryFamilyGenerates(string folder)
    {
        var (rc, output) = Run(folder, "--prompt-ids", "5, 9,33", "--tokens", "4", "--json");
        Assert.True(rc == 0, output);
        int vocab = Families.Named(folder).Load().Facts.VocabSize;
        using var doc = JsonDocument.Parse(output);
        Assert.Equal(4, doc.RootElement.GetProperty("generated_ids").EnumerateArray().Count(id => id.GetInt32() >= 0 && id.GetInt32() < vocab));
    }

    [Fact]
    public void BadPromptIdsNameTheOption()
    {
        static string Error(params string[] args)
        {
            var (code, output) = Run("stories260K-llama", args);
            Assert.Equal(2, code);
            return output;
        }
        Assert.Contains("error: --prompt-ids: \"600\" is not a token id of this model (0..511)", Error("--prompt-ids", "1,600"));
        Assert.Contains("--prompt TEXT or --prompt-ids IDS", Error());
        Assert.Contains("has no tokenizer (tokenizer.json, tokenizer.model, or vocab.json + merges.txt): give the prompt as --prompt-ids", Error("--prompt", "Once"));
    }
}
