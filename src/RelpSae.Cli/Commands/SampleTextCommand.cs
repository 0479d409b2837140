using System.CommandLine;
using RelpSae.Model;

namespace RelpSae.Cli.Commands;

/// <summary>
/// <c>relp-sae sample-text</c>: a text corpus sampled from the model with a fixed seed (documents
/// separated by blank lines), so SAE training data is reproducible without any download. A .jsonl
/// output holds the documents as token ids ({"input_ids": [...]} per line), what train-sae reads for
/// a model without a tokenizer.
/// </summary>
public static class SampleTextCommand
{
    public static Command Create()
    {
        var model = CliDefaults.ModelOption();
        var documents = new Option<int>("--documents") { Description = "How many documents to sample.", DefaultValueFactory = _ => 1000 };
        var tokens = new Option<int>("--tokens") { Description = "Tokens per document at most (a document also ends at <|endoftext|>).", DefaultValueFactory = _ => 63 };
        var temperature = new Option<float>("--temperature") { Description = "Sampling temperature.", DefaultValueFactory = _ => 1f };
        var seed = new Option<int>("--seed") { Description = "Seed of the sampler.", DefaultValueFactory = _ => 0 };
        var output = new Option<string>("--out") { Description = "The .txt file to write, or a .jsonl of token ids (input_ids).", Required = true };
        var force = Overwrite.ForceOption();
        var command = new Command("sample-text", "Sample a reproducible text corpus from the model (for SAE training).") { model, documents, tokens, temperature, seed, output, force };
        command.SetAction(parse =>
        {
            Overwrite.CheckFile(parse.GetValue(output)!, parse.GetValue(force));
            var loaded = ModelFolder.Load(CliDefaults.ExistingFolder(CliDefaults.ModelPath(parse.GetValue(model)), "--model"), holding: CliDefaults.Holding);
            int count = parse.GetValue(documents);
            var path = parse.GetValue(output)!;
            bool ids = path.EndsWith(".jsonl", StringComparison.OrdinalIgnoreCase);
            var tokenizer = ids ? null : loaded.RequireTokenizer("--out FILE.jsonl for token ids");
            var tmp = path + ".tmp";
            int written = 0;
            long tokenCount = 0;
            using (var writer = new StreamWriter(tmp))
            {
                ProgressDisplay.Run("sampling", count, "documents", report =>
                {
                    foreach (var doc in Generation.SampleDocuments(loaded.Transformer, count, parse.GetValue(tokens), parse.GetValue(temperature), parse.GetValue(seed)))
                    {
                        if (doc.Length == 0) continue;
                        if (tokenizer is null) writer.Write(System.Text.Json.JsonSerializer.Serialize(new { input_ids = doc }) + "\n");
                        else
                        {
                            // Blank lines inside a document would split it: the .txt reader separates documents by them.
                            var text = string.Join('\n', tokenizer.Decode(doc).Split('\n').Where(l => l.Trim().Length > 0)).Trim();
                            if (text.Length == 0) continue;
                            writer.Write(text);
                            writer.Write("\n\n");
                        }
                        written++;
                        tokenCount += doc.Length;
                        report(written, "");
                    }
                    return 0;
                });
            }
            File.Move(tmp, path, overwrite: true);
            Console.WriteLine($"wrote {written} documents ({tokenCount:N0} tokens) to {path}");
            return 0;
        });
        return command;
    }
}
