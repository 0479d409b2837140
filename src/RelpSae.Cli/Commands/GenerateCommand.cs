using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using RelpSae.Model;

namespace RelpSae.Cli.Commands;

/// <summary><c>relp-sae generate</c>: continue a prompt with the model, greedily or by seeded sampling.</summary>
public static class GenerateCommand
{
    // The text is printed as written (– stays –, not \u2013); the output is never embedded in HTML.
    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var model = CliDefaults.ModelOption();
        var prompt = new Option<string>("--prompt") { Description = "The text to continue.", Required = true };
        var tokens = new Option<int>("--tokens") { Description = "How many tokens to generate.", DefaultValueFactory = _ => 20 };
        var temperature = new Option<float>("--temperature") { Description = "0 (the default) picks the most likely token; above 0 samples from softmax(logits / T).", DefaultValueFactory = _ => 0f };
        var seed = new Option<int>("--seed") { Description = "Seed for sampling (temperature > 0).", DefaultValueFactory = _ => 0 };
        var prependBos = CliDefaults.PrependBosOption();
        var json = JsonOutput.Option("{\"prompt_ids\", \"generated_ids\", \"text\"}");
        var command = new Command("generate", "Continue a prompt with the model (greedy by default).") { model, prompt, tokens, temperature, seed, prependBos, json };
        command.SetAction(parse =>
        {
            var loaded = Gpt2Model.Load(CliDefaults.ExistingFolder(CliDefaults.ModelPath(parse.GetValue(model)), "--model"));
            bool bos = parse.GetValue(prependBos);
            var promptIds = loaded.Encode(parse.GetValue(prompt)!, bos);
            var generated = Generation.Continue(loaded.Transformer, promptIds, parse.GetValue(tokens), parse.GetValue(temperature), parse.GetValue(seed));
            // The text is decoded from the prompt's ids and the continuation together, so a character split across the boundary stays whole.
            string text = loaded.Tokenizer.Decode([.. promptIds.Skip(bos ? 1 : 0), .. generated]);
            var output = parse.InvocationConfiguration.Output;
            var path = parse.GetValue(json);
            if (!JsonOutput.ToStandardOutput(path)) output.WriteLine(text);
            if (path is not null)
                JsonOutput.Write(path, JsonSerializer.Serialize(new { prompt_ids = promptIds, generated_ids = generated, text }, Readable), output);
            return 0;
        });
        return command;
    }
}
