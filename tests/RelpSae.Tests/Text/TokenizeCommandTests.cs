
namespace RelpSae.Tests.Text;

[Collection(nameof(Cli.ConsoleCollection))]
public class TokenizeCommandTests
{
    static string Run(params string[] args)
    {
        var (code, output, error) = Cli.CliHarness.Run(["tokenize", .. args]);
        Assert.True(code == 0, error);
        return output;
    }

    [Fact]
    public void Prints_ids_then_tokens()
    {
        var lines = Run("--tokenizer", TestPaths.Data("gpt2-tokenizer"), "--text", "Hello world").Split(Environment.NewLine);
        Assert.Equal("15496 995", lines[0]);
        Assert.Equal("\"Hello\" \" world\"", lines[1]);
    }

    [Fact]
    public void Json_is_exactly_an_array_of_ints()
    {
        Assert.Equal("[44,79,296]" + Environment.NewLine, Run("--tokenizer", TestPaths.Data("tarot-gpt2"), "--text", "Love", "--json", "-"));
    }
}
