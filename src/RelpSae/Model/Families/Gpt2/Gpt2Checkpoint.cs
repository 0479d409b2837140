using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>
/// A Hugging Face GPT-2 checkpoint folder: config.json plus model.safetensors or pytorch_model.bin.
/// Tensors are keyed by HF's GPT2Model names (wte.weight, h.0.ln_1.weight, ...), checked against the
/// shapes the config implies before any is read (<see cref="Gpt2TensorPlan"/>); causal-mask buffers
/// and the tied lm_head are dropped.
/// </summary>
public sealed record Gpt2Checkpoint(Gpt2Config Config, IReadOnlyDictionary<string, FloatTensor> Tensors)
{
    internal const string LmHead = "lm_head.weight";

    public static Gpt2Checkpoint Load(string dir, bool checkFinite = true)
    {
        if (!Directory.Exists(dir)) throw new RelpSaeException($"{dir}: no such model folder");
        var config = Gpt2Config.Read(Path.Combine(dir, ShardedCheckpoint.ConfigFile));
        string safetensors = Path.Combine(dir, ShardedCheckpoint.SafetensorsFile), bin = Path.Combine(dir, ShardedCheckpoint.PyTorchFile);
        Dictionary<string, FloatTensor> raw;
        string source;
        if (File.Exists(safetensors))
        {
            using var file = Formats.SafetensorsFile.Open(safetensors);
            var load = Gpt2TensorPlan.Check([.. file.Entries.Select(e => new TensorHeader(e.Name, e.Shape, e.DType))], config, safetensors);
            raw = load.ToDictionary(n => n, n => file.ReadFloat(n, checkFinite), StringComparer.Ordinal);
            source = safetensors;
        }
        else if (File.Exists(bin))
        {
            raw = PyTorchBin.Read(bin, checkFinite, headers => Gpt2TensorPlan.Check(headers, config, bin));
            source = bin;
        }
        else
            throw new RelpSaeException($"{dir}: neither {ShardedCheckpoint.SafetensorsFile} nor {ShardedCheckpoint.PyTorchFile} is there");
        return new Gpt2Checkpoint(config, Normalise(raw, source));
    }

    /// <summary>Every tensor a GPT-2 checkpoint must hold, with the shape the config implies.</summary>
    public static IEnumerable<(string Name, int[] Shape)> ExpectedShapes(Gpt2Config c)
    {
        int d = c.DModel;
        yield return ("wte.weight", [c.VocabSize, d]);
        yield return ("wpe.weight", [c.NPositions, d]);
        for (int l = 0; l < c.NLayers; l++)
        {
            string h = $"h.{l}.";
            yield return (h + "ln_1.weight", [d]);
            yield return (h + "ln_1.bias", [d]);
            yield return (h + "attn.c_attn.weight", [d, 3 * d]);
            yield return (h + "attn.c_attn.bias", [3 * d]);
            yield return (h + "attn.c_proj.weight", [d, d]);
            yield return (h + "attn.c_proj.bias", [d]);
            yield return (h + "ln_2.weight", [d]);
            yield return (h + "ln_2.bias", [d]);
            yield return (h + "mlp.c_fc.weight", [d, c.DMlp]);
            yield return (h + "mlp.c_fc.bias", [c.DMlp]);
            yield return (h + "mlp.c_proj.weight", [c.DMlp, d]);
            yield return (h + "mlp.c_proj.bias", [d]);
        }
        yield return ("ln_f.weight", [d]);
        yield return ("ln_f.bias", [d]);
    }

    /// <summary>Writes the tensors as <c>model.safetensors</c> in <paramref name="dir"/> (HF names, metadata format=pt).</summary>
    public void SaveSafetensors(string dir)
    {
        Directory.CreateDirectory(dir);
        SafetensorsWriter.Write(Path.Combine(dir, ShardedCheckpoint.SafetensorsFile), Tensors.Values,
            new Dictionary<string, string> { ["format"] = "pt" });
    }

    // The causal mask (attn.bias) and its fill value (attn.masked_bias) are buffers, not weights.
    internal static bool IsBuffer(string name) =>
        name.EndsWith(".attn.bias", StringComparison.Ordinal) || name.EndsWith(".attn.masked_bias", StringComparison.Ordinal);

    /// <summary>Drops the prefix and the tied head (checked equal to wte); names and shapes were checked by the plan.</summary>
    private static Dictionary<string, FloatTensor> Normalise(Dictionary<string, FloatTensor> raw, string source)
    {
        var tensors = raw.Values.Select(t => t with { Name = Gpt2TensorPlan.Canonical(t.Name) }).ToDictionary(t => t.Name, StringComparer.Ordinal);
        if (tensors.Remove(LmHead, out var lmHead) && !lmHead.Data.AsSpan().SequenceEqual(tensors["wte.weight"].Data))
            throw new RelpSaeException($"{source}: lm_head.weight differs from wte.weight; untied output heads are not supported");
        return tensors;
    }
}
