using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>All parameters of a Qwen3 model, in Hugging Face's names: a Llama's, and each block's QK-norm scales.</summary>
public sealed class Qwen3Weights
{
    public required LlamaWeights Llama { get; init; }
    public required QkNormScales[] QkNorms { get; init; }

    public static Qwen3Weights FromTensors(LlamaConfig c, CheckpointTensors t, string configPath)
    {
        string by = configPath;
        var norms = t.Layers("model.layers.", c.NLayers, "num_hidden_layers", by, p =>
            new QkNormScales(t.Take(p + "self_attn.q_norm.weight", by, c.DHead), t.Take(p + "self_attn.k_norm.weight", by, c.DHead)));
        // Taken before the Llama's, whose end refuses a tensor no part of the model took.
        return new Qwen3Weights { QkNorms = norms, Llama = LlamaWeights.FromTensors(c, t, by) };
    }
}
