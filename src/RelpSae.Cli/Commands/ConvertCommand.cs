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
            var checkpoint = Gpt2Checkpoint.Load(from);
            DiskSpace.Ensure(to, SpaceNeeded(checkpoint, from), "model.safetensors and the copied files");
            Directory.CreateDirectory(to);
            var copied = Copied(from);
            checkpoint.SaveSafetensors(to);
            foreach (var file in copied)
                File.Copy(Path.Combine(from, file), Path.Combine(to, file), overwrite: true);

            long parameters = checkpoint.Tensors.Values.Sum(t => t.Length);
            long bytes = new FileInfo(Path.Combine(to, ShardedCheckpoint.SafetensorsFile)).Length;
            var c = checkpoint.Config;
            Console.WriteLine($"GPT-2 n_layer {c.NLayers}, n_embd {c.DModel}, n_head {c.NHeads}, vocab {c.VocabSize}, n_positions {c.NPositions}: {checkpoint.Tensors.Count} tensors, {parameters:N0} parameters");
            Console.WriteLine($"wrote {Path.Combine(to, ShardedCheckpoint.SafetensorsFile)} ({bytes:N0} bytes); copied {string.Join(", ", copied)}");
            return 0;
        });
        return command;
    }

    /// <summary>Bytes convert writes, at most: float32 tensors, 1 MiB for the safetensors header, and the copied files.</summary>
    public static long SpaceNeeded(Gpt2Checkpoint checkpoint, string from) =>
        4 * checkpoint.Tensors.Values.Sum(t => (long)t.Length) + (1 << 20) + Copied(from).Sum(f => new FileInfo(Path.Combine(from, f)).Length);

    static List<string> Copied(string from) => CopiedFiles.Where(f => File.Exists(Path.Combine(from, f))).ToList();
}
