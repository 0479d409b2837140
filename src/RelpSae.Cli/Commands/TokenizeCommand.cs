using System.CommandLine;
using System.Text.Json;
using RelpSae.Text;

namespace RelpSae.Cli.Commands;

/// <summary><c>relp-sae tokenize</c>: the GPT-2 token ids of a text, to check prompts and target tokens.</summary>
public static class TokenizeCommand
{
    public static Command Create()
    {
        var tokenizer = new Option<string?>("--tokenizer")
        {
            Description = "Folder with tokenizer.json, tokenizer.model, or vocab.json + merges.txt (a model folder will do). [default: the embedded tarot GPT-2's]",
        };
        var text = new Option<string>("--text") { Description = "The text to tokenize (no BOS is added).", Required = true };
        var json = JsonOutput.Option("the array of ids");
        var command = new Command("tokenize", "Print the token ids of a text (first line) and the tokens they stand for (second line).")
        {
            tokenizer, text, json,
        };
        command.SetAction(parse =>
        {
            var dir = CliDefaults.ModelPath(parse.GetValue(tokenizer));
            if (!Directory.Exists(dir)) throw new RelpSaeException($"--tokenizer: folder not found: {dir}");
            var tok = TokenizerFiles.Load(dir) ?? throw new RelpSaeException($"{dir} has no tokenizer (tokenizer.json, tokenizer.model, or vocab.json + merges.txt)");
            var ids = tok.Encode(StrictText.Valid(parse.GetValue(text)!, "--text"));
            var output = parse.InvocationConfiguration.Output;
            var path = JsonOutput.Target(parse, json);
            if (!JsonOutput.ToStandardOutput(path))
            {
                output.WriteLine(string.Join(' ', ids));
                output.WriteLine(string.Join(' ', ids.Select(id => $"\"{tok.TokenText(id)}\"")));
            }
            if (path is not null) JsonOutput.Write(path, JsonSerializer.Serialize(ids));
            return 0;
        });
        return command;
    }
}
