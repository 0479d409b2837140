using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>
/// The model registry: each family by the architectures and model types its config.json may name, and how its
/// folder loads. A Hugging Face folder loads as the family its config.json names (architectures, else model_type).
/// </summary>
public static class LanguageModels
{
    /// <summary>
    /// One family: the causal-LM architectures and the model types it loads, its loader (given the folder, its config
    /// and whether to centre the writing weights), and other architectures whose checkpoints it also reads.
    /// </summary>
    private sealed record Family(string[] Architectures, string[] ModelTypes, Func<string, ConfigJson, bool, ITransformer> Load,
        bool CentersWritingWeights = false, string[]? AlsoReads = null);

    private static readonly Family[] Families =
    [
        new(["GPT2LMHeadModel"], ["gpt2"], (dir, _, center) => Gpt2.Load(dir, center), CentersWritingWeights: true, AlsoReads: ["GPT2Model"]),
        new(["LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM"], ["llama", "qwen2", "mistral"], (dir, config, _) => Llama.Load(dir, config)),
        new(["Gemma2ForCausalLM"], ["gemma2"], (dir, config, _) => Gemma2.Load(dir, config)),
        new(["GPTNeoXForCausalLM"], ["gpt_neox"], (dir, config, _) => GptNeoX.Load(dir, config)),
    ];

    /// <summary>The causal-LM architectures that load.</summary>
    public static readonly string[] Supported = [.. Families.SelectMany(f => f.Architectures)];

    /// <summary>The model in <paramref name="dir"/>; <paramref name="centerWritingWeights"/> is TransformerLens' processing of GPT-2 and refused elsewhere.</summary>
    public static ITransformer Load(string dir, bool centerWritingWeights = false)
    {
        if (!Directory.Exists(dir)) throw new RelpSaeException($"{dir}: no such model folder");
        var config = ConfigJson.Read(Path.Combine(dir, ShardedCheckpoint.ConfigFile));
        string type = config.String("model_type", "");
        string architecture = config.Architecture;
        var family = Families.FirstOrDefault(f => architecture == "" ? f.ModelTypes.Contains(type) : f.Architectures.Contains(architecture) || (f.AlsoReads?.Contains(architecture) ?? false))
            ?? throw new RelpSaeException($"{config.Path}: architecture '{architecture}' (model_type '{type}') is not supported; supported: {string.Join(", ", Supported)}");
        if (centerWritingWeights && !family.CentersWritingWeights)
            throw new RelpSaeException($"{config.Path}: --center-writing-weights is implemented for GPT-2 only, not '{architecture}'");
        return family.Load(dir, config, centerWritingWeights);
    }
}
