using System.CommandLine;
using System.Text.Encodings.Web;
using System.Text.Json;
using RelpSae.Interventions;
using RelpSae.Model;
using RelpSae.Text;

namespace RelpSae.Cli.Commands;

/// <summary>
/// <c>relp-sae generate</c>: continue a prompt with the model (any family), greedily or by seeded sampling, with feature
/// interventions (--steer, --clamp, --ablate) in force at every step when given.
/// </summary>
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
        var json = JsonOutput.Option("{\"prompt_ids\", \"generated_ids\", \"text\", \"interventions\"} (text is null without a tokenizer)");
        var sae = CliDefaults.SaeOption(transcoders: true);
        sae.Description = "The dictionary whose features --steer, --clamp and --ablate change: " + sae.Description;
        var saes = SaeSetOptions.SaesOption();
        var changes = new InterventionOptions();
        var command = new Command("generate", "Continue a prompt with the model (greedy by default), optionally steering, clamping or ablating dictionary features.")
        {
            model, prompt, promptIds, tokens, temperature, seed, prependBos, json, sae, saes,
        };
        foreach (var option in changes.All) command.Options.Add(option);
        command.SetAction(parse =>
        {
            string dir = CliDefaults.ExistingFolder(CliDefaults.ModelPath(parse.GetValue(model)), "--model");
            var interventions = changes.Parse(parse);
            string? saeGiven = parse.GetValue(sae), saesGiven = parse.GetValue(saes);
            if (saeGiven is not null && saesGiven is not null) throw new RelpSaeException("give the dictionaries as --sae or as --saes, not both");
            if (interventions.Count == 0 && (saeGiven ?? saesGiven) is not null)
                throw new RelpSaeException($"{(saeGiven is null ? "--saes" : "--sae")} names the dictionaries whose features --steer, --clamp and --ablate change: give one of those");
            bool bos = parse.GetValue(prependBos), center = false;
            if (interventions.Count > 0 && saesGiven is null) (center, bos) = DictionaryFile.Processing(CliDefaults.SaePath(saeGiven), center, bos);
            var transformer = LanguageModels.Load(dir, center, CliDefaults.Holding);
            var rewrite = interventions.Count == 0 ? null
                : new FeatureInterventions(interventions, InterventionOptions.Dictionaries(CliDefaults.SaePath(saeGiven), saesGiven, transformer.Facts), transformer.Facts);
            string? text = parse.GetValue(prompt), ids = parse.GetValue(promptIds);
            if ((text is null) == (ids is null)) throw new RelpSaeException("give the prompt as --prompt TEXT or --prompt-ids IDS (one of them)");
            var tokenizer = TokenizerFiles.Load(dir);
            if (text is not null && tokenizer is null)
                throw new RelpSaeException($"{dir} has no tokenizer (tokenizer.json, tokenizer.model, or vocab.json + merges.txt): give the prompt as --prompt-ids");
            if (tokenizer is not null && tokenizer.VocabSize > transformer.Facts.VocabSize)
                throw new RelpSaeException($"{tokenizer.Source}: the tokenizer has {tokenizer.VocabSize} tokens, more than the model's vocabulary of {transformer.Facts.VocabSize}");
            int[] promptTokens = ids is not null ? CliParsing.TokenIds(ids, transformer.Facts.VocabSize) : tokenizer!.Encode(StrictText.Valid(text!, "--prompt"));
            if (bos) promptTokens = [transformer.Facts.BosTokenId, .. promptTokens];
            var generated = Generation.Continue(transformer, promptTokens, parse.GetValue(tokens), parse.GetValue(temperature), parse.GetValue(seed), rewrite);
            // The text is decoded from the prompt's ids and the continuation together, so a character split across the boundary stays whole.
            string? output = tokenizer?.Decode([.. promptTokens.Skip(bos ? 1 : 0), .. generated]);
            var writer = parse.InvocationConfiguration.Output;
            var path = JsonOutput.Target(parse, json);
            if (!JsonOutput.ToStandardOutput(path)) writer.WriteLine(output ?? string.Join(",", generated));
            if (path is not null)
                JsonOutput.Write(path, JsonSerializer.Serialize(new { prompt_ids = promptTokens, generated_ids = generated, text = output, interventions = InterventionOptions.Json(interventions) }, Readable));
            return 0;
        });
        return command;
    }
}
