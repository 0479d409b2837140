using System.CommandLine;
using System.Text.Json;
using RelpSae.Cli.Commands;

namespace RelpSae.Tests.Model;

/// <summary><c>generate</c> on a model of each family, from token ids (the fixtures have no tokenizer of their own).</summary>
public class GenerateOnFamiliesTests
{
    private static (int Code, string Output) Run(string folder, params string[] args)
    {
        var output = new StringWriter();
        var root = new RootCommand { GenerateCommand.Create() };
        int rc = root.Parse(["generate", "--model", TestPaths.Data(folder), .. args])
            .Invoke(new InvocationConfiguration { Output = output, Error = output, EnableDefaultExceptionHandler = false });
        return (rc, output.ToString());
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
        Assert.Contains("--prompt-ids: \"600\" is not a token id of this model (0..511)",
            Assert.Throws<RelpSaeException>(() => Run("stories260K-llama", "--prompt-ids", "1,600")).Message);
        Assert.Contains("--prompt TEXT or --prompt-ids IDS",
            Assert.Throws<RelpSaeException>(() => Run("stories260K-llama")).Message);
        Assert.Contains("has no tokenizer (tokenizer.json, tokenizer.model, or vocab.json + merges.txt): give the prompt as --prompt-ids",
            Assert.Throws<RelpSaeException>(() => Run("stories260K-llama", "--prompt", "Once")).Message);
    }
}
