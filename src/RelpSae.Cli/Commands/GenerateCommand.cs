using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using RelpSae.Model;
using RelpSae.Text;

namespace RelpSae.Cli.Commands;

/// <summary><c>relp-sae generate</c>: continue a prompt with the model (any family), greedily or by seeded sampling.</summary>
public static class GenerateCommand
{
    // The text is printed as written (– stays –, not \u2013); the output is never embedded in HTML.
    private static readonly JsonSerializerOptions Readable = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };

    public static Command Create()
    {
        var model = CliDefaults.ModelOption();
        var prompt = new Option<string>("--prompt") { Description = "The text to continue." };
        var promptIds = new Option<string>("--prompt-ids") { Description = "The prompt as comma-separated token ids (for a model whose tokenizer is not at hand)." };
        var tokens = new Option<int>("--tokens") { Description = "How many tokens to generate.", DefaultValueFactory = _ => 20 };
        var temperature = new Option<float>("--temperature") { Description = "0 (the default) picks the most likely token; above 0 samples from softmax(logits / T).", DefaultValueFactory = _ => 0f };
        var seed = new Option<int>("--seed") { Description = "Seed for sampling (temperature > 0).", DefaultValueFactory = _ => 0 };
        var prependBos = CliDefaults.PrependBosOption();
        var json = JsonOutput.Option("{\"prompt_ids\", \"generated_ids\", \"text\"} (text is null without a tokenizer)");
        var command = new Command("generate", "Continue a prompt with the model (greedy by default).") { model, prompt, promptIds, tokens, temperature, seed, prependBos, json };
        command.SetAction(parse =>
        {
            string dir = CliDefaults.ExistingFolder(CliDefaults.ModelPath(parse.GetValue(model)), "--model");
            var transformer = LanguageModels.Load(dir, holding: CliDefaults.Holding);
            string? text = parse.GetValue(prompt), ids = parse.GetValue(promptIds);
            if ((text is null) == (ids is null)) throw new RelpSaeException("give the prompt as --prompt TEXT or --prompt-ids IDS (one of them)");
            var tokenizer = TokenizerFiles.Load(dir);
            if (text is not null && tokenizer is null)
                throw new RelpSaeException($"{dir} has no tokenizer (tokenizer.json, tokenizer.model, or vocab.json + merges.txt): give the prompt as --prompt-ids");
            if (tokenizer is not null && tokenizer.VocabSize > transformer.Facts.VocabSize)
                throw new RelpSaeException($"{tokenizer.Source}: the tokenizer has {tokenizer.VocabSize} tokens, more than the model's vocabulary of {transformer.Facts.VocabSize}");
            bool bos = parse.GetValue(prependBos);
            int[] promptTokens = ids is not null ? CliParsing.TokenIds(ids, transformer.Facts.VocabSize) : tokenizer!.Encode(StrictText.Valid(text!, "--prompt"));
            if (bos) promptTokens = [transformer.Facts.BosTokenId, .. promptTokens];
            var generated = Generation.Continue(transformer, promptTokens, parse.GetValue(tokens), parse.GetValue(temperature), parse.GetValue(seed));
            // The text is decoded from the prompt's ids and the continuation together, so a character split across the boundary stays whole.
            string? output = tokenizer?.Decode([.. promptTokens.Skip(bos ? 1 : 0), .. generated]);
            var writer = parse.InvocationConfiguration.Output;
            var path = JsonOutput.Target(parse, json);
            if (!JsonOutput.ToStandardOutput(path)) writer.WriteLine(output ?? string.Join(",", generated));
            if (path is not null)
                JsonOutput.Write(path, JsonSerializer.Serialize(new { prompt_ids = promptTokens, generated_ids = generated, text = output }, Readable));
            return 0;
        });
        return command;
    }
}
