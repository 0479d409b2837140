using RelpSae.Model;

namespace RelpSae.Formats;

/// <summary>
/// A Hugging Face GPT-2 checkpoint folder: config.json plus model.safetensors or pytorch_model.bin.
/// Tensors are keyed by HF's GPT2Model names (wte.weight, h.0.ln_1.weight, ...), checked against the
/// shapes the config implies; causal-mask buffers and the tied lm_head are dropped.
/// </summary>
public sealed record HfCheckpoint(Gpt2Config Config, IReadOnlyDictionary<string, FloatTensor> Tensors)
{
    public const string ConfigFile = "config.json";
    public const string SafetensorsFile = "model.safetensors";
    public const string PyTorchFile = "pytorch_model.bin";

    public static HfCheckpoint Load(string dir, bool checkFinite = true)
    {
        if (!Directory.Exists(dir)) throw new RelpSaeException($"{dir}: no such model folder");
        var config = HfConfig.Read(Path.Combine(dir, ConfigFile));
        string safetensors = Path.Combine(dir, SafetensorsFile), bin = Path.Combine(dir, PyTorchFile);
        Dictionary<string, FloatTensor> raw;
        string source;
        if (File.Exists(safetensors))
        {
            using var file = Formats.SafetensorsFile.Open(safetensors);
            raw = file.Entries.Where(e => !IsBuffer(e.Name))
                .ToDictionary(e => e.Name, e => file.ReadFloat(e.Name, checkFinite), StringComparer.Ordinal);
            source = safetensors;
        }
        else if (File.Exists(bin))
        {
            raw = PyTorchBin.Read(bin, checkFinite);
            source = bin;
        }
        else
            throw new RelpSaeException($"{dir}: neither {SafetensorsFile} nor {PyTorchFile} is there");
        return new HfCheckpoint(config, Normalise(raw, config, source));
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
        SafetensorsWriter.Write(Path.Combine(dir, SafetensorsFile), Tensors.Values,
            new Dictionary<string, string> { ["format"] = "pt" });
    }

    // The causal mask (attn.bias) and its fill value (attn.masked_bias) are buffers, not weights.
    private static bool IsBuffer(string name) =>
        name.EndsWith(".attn.bias", StringComparison.Ordinal) || name.EndsWith(".attn.masked_bias", StringComparison.Ordinal);

    private static Dictionary<string, FloatTensor> Normalise(Dictionary<string, FloatTensor> raw, Gpt2Config config, string source)
    {
        var tensors = new Dictionary<string, FloatTensor>(StringComparer.Ordinal);
        FloatTensor? lmHead = null;
        foreach (var (key, tensor) in raw)
        {
            string name = key.StartsWith("transformer.", StringComparison.Ordinal) ? key["transformer.".Length..] : key;
            if (IsBuffer(name)) continue;
            if (name == "lm_head.weight") { lmHead = tensor; continue; }
            if (!tensors.TryAdd(name, tensor with { Name = name }))
                throw new RelpSaeException($"{source}: tensor '{name}' appears both with and without the transformer. prefix");
        }
        var expected = ExpectedShapes(config).ToList();
        foreach (var (name, shape) in expected)
        {
            if (!tensors.TryGetValue(name, out var t))
                throw new RelpSaeException($"{source}: tensor '{name}' is missing (expected shape [{string.Join(", ", shape)}])");
            if (!t.Shape.SequenceEqual(shape))
                throw new RelpSaeException($"{source}: tensor '{name}' has shape [{string.Join(", ", t.Shape)}], the config implies [{string.Join(", ", shape)}]");
        }
        var unexpected = tensors.Keys.Except(expected.Select(e => e.Name)).FirstOrDefault();
        if (unexpected is not null)
            throw new RelpSaeException($"{source}: tensor '{unexpected}' is not part of a GPT-2 model with this config");
        if (lmHead is not null && !(lmHead.Shape.SequenceEqual(tensors["wte.weight"].Shape) && lmHead.Data.AsSpan().SequenceEqual(tensors["wte.weight"].Data)))
            throw new RelpSaeException($"{source}: lm_head.weight differs from wte.weight; untied output heads are not supported");
        return tensors;
    }
}
