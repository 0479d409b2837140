using System.CommandLine;
using System.Text.Json;
using RelpSae.Text;

namespace RelpSae.Cli.Commands;

/// <summary><c>relp-sae tokenize</c>: the GPT-2 token ids of a text, to check prompts and target tokens.</summary>
public static class TokenizeCommand
{
    public static Command Create()
    {
        var tokenizer = new Option<string>("--tokenizer")
        {
            Description = "Folder with tokenizer.json, or vocab.json + merges.txt.",
            Required = true,
        };
        var text = new Option<string>("--text") { Description = "The text to tokenize (no BOS is added).", Required = true };
        var json = new Option<bool>("--json") { Description = "Print only a JSON array of the ids." };
        var command = new Command("tokenize", "Print the token ids of a text (first line) and the tokens they stand for (second line).")
        {
            tokenizer, text, json,
        };
        command.SetAction(parse =>
        {
            var tok = Gpt2Tokenizer.Load(parse.GetValue(tokenizer)!);
            var ids = tok.Encode(StrictText.Valid(parse.GetValue(text)!, "--text"));
            var output = parse.InvocationConfiguration.Output;
            if (parse.GetValue(json))
            {
                output.WriteLine(JsonSerializer.Serialize(ids));
                return 0;
            }
            output.WriteLine(string.Join(' ', ids));
            output.WriteLine(string.Join(' ', ids.Select(id => $"\"{tok.TokenText(id)}\"")));
            return 0;
        });
        return command;
    }
}
