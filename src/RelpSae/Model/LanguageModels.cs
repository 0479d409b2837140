using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>
/// Loads a Hugging Face model folder as the family its config.json names (architectures, else model_type):
/// GPT-2, the Llama family (Llama, Qwen2, Mistral), Gemma-2 or GPT-NeoX (Pythia).
/// </summary>
public static class LanguageModels
{
    public static readonly string[] Supported =
        ["GPT2LMHeadModel", "LlamaForCausalLM", "Qwen2ForCausalLM", "MistralForCausalLM", "Gemma2ForCausalLM", "GPTNeoXForCausalLM"];

    /// <summary>The model in <paramref name="dir"/>; <paramref name="centerWritingWeights"/> is TransformerLens' processing of GPT-2 and refused elsewhere.</summary>
    public static ITransformer Load(string dir, bool centerWritingWeights = false)
    {
        if (!Directory.Exists(dir)) throw new RelpSaeException($"{dir}: no such model folder");
        var config = ConfigJson.Read(Path.Combine(dir, ShardedCheckpoint.ConfigFile));
        string type = config.String("model_type", "");
        string architecture = config.Architecture;
        if (centerWritingWeights && architecture is not ("GPT2LMHeadModel" or "GPT2Model") && type != "gpt2")
            throw new RelpSaeException($"{config.Path}: --center-writing-weights is implemented for GPT-2 only, not '{architecture}'");
        return (architecture, type) switch
        {
            ("GPT2LMHeadModel" or "GPT2Model", _) or ("", "gpt2") => Gpt2.Load(dir, centerWritingWeights),
            ("LlamaForCausalLM" or "Qwen2ForCausalLM" or "MistralForCausalLM", _) or ("", "llama" or "qwen2" or "mistral") => Llama.Load(dir, config),
            ("Gemma2ForCausalLM", _) or ("", "gemma2") => Gemma2.Load(dir, config),
            ("GPTNeoXForCausalLM", _) or ("", "gpt_neox") => GptNeoX.Load(dir, config),
            _ => throw new RelpSaeException($"{config.Path}: architecture '{architecture}' (model_type '{type}') is not supported; supported: {string.Join(", ", Supported)}"),
        };
    }
}
