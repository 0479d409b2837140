using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>
/// Qwen3's config.json (Qwen3ForCausalLM) as Hugging Face's Qwen3Config reads it, into the Llama family's
/// hyper-parameters: head_dim 128 when absent, q/k/v and o biases only with attention_bias, and sliding_window
/// only with use_sliding_window. The QK-norm adds no setting (its eps is rms_norm_eps).
/// </summary>
public static class Qwen3Config
{
    public static LlamaConfig Parse(ConfigJson json) =>
        LlamaConfig.Parse(json, defaultHeadDim: 128, typeQkvBias: false, slidingWindow: json.Bool("use_sliding_window", false));
}
