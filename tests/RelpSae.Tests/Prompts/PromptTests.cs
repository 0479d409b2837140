using RelpSae.Prompts;

namespace RelpSae.Tests.Prompts;

public class PromptTests
{
    private static readonly HashSet<string> Gpt2Vocab =
        System.Text.Json.JsonSerializer.Deserialize<Dictionary<string, int>>(
            File.ReadAllText(TestPaths.Data("gpt2-tokenizer", "vocab.json")))!.Keys.ToHashSet();

    // In GPT-2's byte-level vocabulary a leading space is the character 'Ġ'.
    private static bool SingleGpt2Token(string text) => Gpt2Vocab.Contains(text.Replace(' ', 'Ġ'));

    [Fact]
    public void IoiCasesHaveTheIndirectObjectAsTargetAndDifferentNamesInTheCorruption()
    {
        var cases = IoiPrompts.Generate(40, seed: 1, SingleGpt2Token);
        Assert.Equal(40, cases.Count);
        foreach (var c in cases)
        {
            var a = c.Target!.Trim();
            var b = c.Foil!.Trim();
            Assert.NotEqual(a, b);
            // The subject B appears twice, the indirect object A once, and the prompt ends before the answer.
            Assert.Equal(2, Count(c.Prompt, b));
            Assert.Equal(1, Count(c.Prompt, a));
            Assert.Equal(0, Count(c.Corrupt!, a));
            Assert.Equal(0, Count(c.Corrupt!, b));
            Assert.Equal(c.Prompt.Split(' ').Length, c.Corrupt!.Split(' ').Length);
        }
        Assert.Equal(cases, IoiPrompts.Generate(40, seed: 1, SingleGpt2Token));
        Assert.NotEqual(cases, IoiPrompts.Generate(40, seed: 2, SingleGpt2Token));
    }

    [Fact]
    public void IoiRefusesATokenizerWithoutSingleTokenNames()
    {
        var e = Assert.Throws<RelpSaeException>(() => IoiPrompts.Generate(5, 0, _ => false));
        Assert.Contains("single-token names", e.Message);
    }

    [Fact]
    public void PromptFileReadsOptionalFieldsAndNamesTheBadLine()
    {
        var path = Path.GetTempFileName();
        File.WriteAllLines(path, ["{\"prompt\":\"The Tower\",\"target\":\" is\"}", "", "{\"prompt\":\"a\",\"foil\":\" b\",\"corrupt\":\"c\"}"]);
        var cases = PromptFile.Read(path);
        Assert.Equal([new PromptCase("The Tower", " is"), new PromptCase("a", null, " b", "c")], cases);

        File.WriteAllLines(path, ["{\"prompt\":\"ok\"}", "{\"target\":\" x\"}"]);
        var e = Assert.Throws<RelpSaeException>(() => PromptFile.Read(path));
        Assert.Equal($"{path}:2: missing field \"prompt\"", e.Message);
        File.WriteAllLines(path, ["{not json"]);
        Assert.StartsWith($"{path}:1: not valid JSON", Assert.Throws<RelpSaeException>(() => PromptFile.Read(path)).Message);
        File.Delete(path);
    }

    [Theory]
    [InlineData("target")]
    [InlineData("foil")]
    public void ATokenIdTooLargeForAnIntIsRefusedNamingTheLineAndKey(string key)
    {
        var path = Path.GetTempFileName();
        File.WriteAllLines(path, ["{\"prompt_ids\":[1,2]}", $"{{\"prompt_ids\":[1,2],\"{key}\":\"99999999999999999999\"}}"]);
        var e = Assert.Throws<RelpSaeException>(() => PromptFile.Read(path));
        Assert.Equal($"{path}:2: field \"{key}\" is the token id 99999999999999999999, larger than any vocabulary", e.Message);
        File.Delete(path);
    }

    private static int Count(string text, string word) =>
        text.Split([' ', ',', '.'], StringSplitOptions.RemoveEmptyEntries).Count(w => w == word);
}
