using System.Text.Json;
using RelpSae.Model;

namespace RelpSae.Tests.Model;

[Collection(nameof(Cli.ConsoleCollection))]
public class GenerateCommandTests
{
    private static (int Code, string Output) Run(params string[] args)
    {
        var (code, output, error) = Cli.CliHarness.Run(["generate", "--model", TestPaths.Data("tarot-gpt2"), .. args]);
        return (code, output + error);
    }

    [Fact]
    public void GreedyJsonMatchesTheReferenceContinuation()
    {
        var (rc, output) = Run("--prompt", "Love", "--json", "-");
        Assert.True(rc == 0, output);
        using var doc = JsonDocument.Parse(output);
        var root = doc.RootElement;
        Assert.Equal([44, 79, 296], root.GetProperty("prompt_ids").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal([271, 724, 338, 451, 298, 395, 419, 265, 288, 282, 482, 388, 261, 327, 672, 395, 972, 553, 474, 265],
            root.GetProperty("generated_ids").EnumerateArray().Select(e => e.GetInt32()));
        Assert.Equal("Love the moment but there is no need to panic – you are under no obligation to", root.GetProperty("text").GetString());
        Assert.Contains("–", output); // written as is, not as \u2013
    }

    [Fact]
    public void PlainOutputIsTheTextAndBosIsLeftOutOfIt()
    {
        var (rc, output) = Run("--prompt", "Love", "--tokens", "3", "--prepend-bos");
        Assert.True(rc == 0, output);
        var model = TarotCheckpointTests.Tarot.Value;
        var tokenizer = RelpSae.Text.Gpt2Tokenizer.Load(TestPaths.Data("tarot-gpt2"));
        var continuation = Generation.Continue(model, [tokenizer.EndOfTextId, 44, 79, 296], 3);
        Assert.Equal(tokenizer.Decode([44, 79, 296, .. continuation]) + Environment.NewLine, output);
        Assert.DoesNotContain("<|endoftext|>", output);
    }

    [Fact]
    public void TooManyTokensIsAUserError()
    {
        var (code, output) = Run("--prompt", "Love", "--tokens", "100");
        Assert.Equal(2, code);
        Assert.Contains("error: --tokens 100", output);
    }
}
