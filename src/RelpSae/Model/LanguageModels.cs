using RelpSae.Formats;
using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// The model registry: each family by the architectures and model types its config.json may name, and how its
/// folder loads. A Hugging Face folder loads as the family its config.json names (architectures, else model_type).
/// </summary>
public static class LanguageModels
{
    /// <summary>
    /// One family: the causal-LM architectures and the model types it loads, its loader (given the folder, its config
    /// whether to centre the writing weights and what to hold the weights as), and other architectures whose checkpoints it also reads.
    /// </summary>
    private sealed record Family(string[] Architectures, string[] ModelTypes, Func<string, ConfigJson, bool, PanelElement?, ITransformer> Load,
        bool CentersWritingWeights = false, string[]? AlsoReads = null);

    private static readonly Family[] Families =
    [
        new(["GPT2LMHeadModel"], ["gpt2"],
            (dir, config, center, holding) => FromCheckpoint(dir, config, holding, Gpt2Config.Parse, (c, t, by) => Gpt2.FromTensors(c, t, by, center)),
            CentersWritingWeights: true, AlsoReads: ["GPT2Model"]),
        new(["LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM"], ["llama", "qwen2", "mistral"],
            (dir, config, _, holding) => FromCheckpoint(dir, config, holding, LlamaConfig.Parse, (c, t, by) => new Llama(LlamaWeights.FromTensors(c, t, by)))),
        new(["Qwen3ForCausalLM"], ["qwen3"],
            (dir, config, _, holding) => FromCheckpoint(dir, config, holding, Qwen3Config.Parse, (c, t, by) => new Qwen3(Qwen3Weights.FromTensors(c, t, by)))),
        new(["Gemma2ForCausalLM"], ["gemma2"],
            (dir, config, _, holding) => FromCheckpoint(dir, config, holding, Gemma2Config.Parse, (c, t, by) => new Gemma2(Gemma2Weights.FromTensors(c, t, by)))),
        new(["Gemma3ForCausalLM"], ["gemma3_text", "gemma3"],
            (dir, config, _, holding) => FromCheckpoint(dir, config, holding, Gemma3Config.Parse, (c, t, by) => new Gemma3(Gemma3Weights.FromTensors(c, t, by))),
            AlsoReads: ["Gemma3ForConditionalGeneration"]),
        new(["GPTNeoXForCausalLM"], ["gpt_neox"],
            (dir, config, _, holding) => FromCheckpoint(dir, config, holding, GptNeoXConfig.Parse, (c, t, by) => new GptNeoX(GptNeoXWeights.FromTensors(c, t, by)))),
    ];

    /// <summary>The causal-LM architectures that load.</summary>
    public static readonly string[] Supported = [.. Families.SelectMany(f => f.Architectures)];

    /// <summary>
    /// The model in <paramref name="dir"/>; <paramref name="centerWritingWeights"/> is TransformerLens' processing of GPT-2 and refused elsewhere;
    /// <paramref name="holding"/>: the width the weight matrices are held in (null: as stored; see <see cref="CheckpointTensors.Holding"/>).
    /// </summary>
    public static ITransformer Load(string dir, bool centerWritingWeights = false, PanelElement? holding = null)
    {
        if (!Directory.Exists(dir)) throw new RelpSaeException($"{dir}: no such model folder");
        var config = ConfigJson.Read(Path.Combine(dir, ShardedCheckpoint.ConfigFile));
        string type = config.String("model_type", "");
        string architecture = config.Architecture;
        var family = Families.FirstOrDefault(f => architecture == "" ? f.ModelTypes.Contains(type) : f.Architectures.Contains(architecture) || (f.AlsoReads?.Contains(architecture) ?? false))
            ?? throw new RelpSaeException($"{config.Path}: architecture '{architecture}' (model_type '{type}') is not supported; supported: {string.Join(", ", Supported)}");
        if (centerWritingWeights && !family.CentersWritingWeights)
            throw new SettingException(name => $"{config.Path}: {name(Setting.CenterWritingWeights)} is implemented for GPT-2 only, not '{architecture}'");
        MemoryEstimate.TryOf(dir, holding)?.CheckFits(AvailableMemory.Bytes());
        return family.Load(dir, config, centerWritingWeights, holding);
    }

    /// <summary>A family read from its parsed config.json and the folder's tensors (model.safetensors, shards or pytorch_model.bin).</summary>
    internal static TModel FromCheckpoint<TConfig, TModel>(string dir, ConfigJson config, PanelElement? holding, Func<ConfigJson, TConfig> parse,
        Func<TConfig, CheckpointTensors, string, TModel> build)
    {
        var parsed = parse(config);
        using var tensors = ShardedCheckpoint.Read(dir);
        tensors.Holding = holding;
        return build(parsed, tensors, config.Path);
    }
}
