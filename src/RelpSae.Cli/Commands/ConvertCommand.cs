using System.CommandLine;
using RelpSae.Formats;
using RelpSae.Model;

namespace RelpSae.Cli.Commands;

/// <summary>
/// <c>relp-sae convert</c>: rewrites a Hugging Face GPT-2 folder with model.safetensors instead of
/// pytorch_model.bin (validated on the way), so it loads without the pickle reader.
/// </summary>
public static class ConvertCommand
{
    private static readonly string[] CopiedFiles =
        [ShardedCheckpoint.ConfigFile, "vocab.json", "merges.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "LICENSE"];

    public static Command Create()
    {
        var model = CliDefaults.ModelOption();
        var output = new Option<string>("--out") { Description = "Folder to write model.safetensors, config.json and the tokenizer files to.", Required = true };
        var force = Overwrite.ForceOption();
        var command = new Command("convert", "Convert a GPT-2 checkpoint folder to safetensors (float32), copying its config, tokenizer and licence.") { model, output, force };
        command.SetAction(parse =>
        {
            string from = CliDefaults.ModelPath(parse.GetValue(model)), to = parse.GetValue(output)!;
            if (Path.GetFullPath(from).TrimEnd('/') == Path.GetFullPath(to).TrimEnd('/'))
                throw new RelpSaeException("--out must be a different folder from --model");
            Overwrite.CheckFolder(to, parse.GetValue(force), [ShardedCheckpoint.SafetensorsFile, ShardedCheckpoint.PyTorchFile, ShardedCheckpoint.ConfigFile], "a model");
            // Loading checks every tensor against the config; the tensors written are the loaded ones widened back.
            var weights = Gpt2.Load(from).Weights;
            var tensors = weights.ToTensors().Values;
            DiskSpace.Ensure(to, SpaceNeeded(tensors, from), "model.safetensors and the copied files");
            Directory.CreateDirectory(to);
            var copied = Copied(from);
            SafetensorsWriter.Write(Path.Combine(to, ShardedCheckpoint.SafetensorsFile), tensors, new Dictionary<string, string> { ["format"] = "pt" });
            foreach (var file in copied)
                File.Copy(Path.Combine(from, file), Path.Combine(to, file), overwrite: true);

            long parameters = tensors.Sum(t => t.Length);
            long bytes = new FileInfo(Path.Combine(to, ShardedCheckpoint.SafetensorsFile)).Length;
            var c = weights.Config;
            Console.WriteLine($"GPT-2 n_layer {c.NLayers}, n_embd {c.DModel}, n_head {c.NHeads}, vocab {c.VocabSize}, n_positions {c.NPositions}: {tensors.Count} tensors, {parameters:N0} parameters");
            Console.WriteLine($"wrote {Path.Combine(to, ShardedCheckpoint.SafetensorsFile)} ({bytes:N0} bytes); copied {string.Join(", ", copied)}");
            return 0;
        });
        return command;
    }

    /// <summary>Bytes convert writes, at most: float32 tensors, 1 MiB for the safetensors header, and the copied files.</summary>
    public static long SpaceNeeded(IReadOnlyCollection<FloatTensor> tensors, string from) =>
        4 * tensors.Sum(t => (long)t.Length) + (1 << 20) + Copied(from).Sum(f => new FileInfo(Path.Combine(from, f)).Length);

    static List<string> Copied(string from) => CopiedFiles.Where(f => File.Exists(Path.Combine(from, f))).ToList();
}
