using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>One Llama block's parameters: RMSNorm scales and the block's linear maps.</summary>
public sealed class LlamaLayer
{
    public required float[] InputNorm, PostAttentionNorm;   // [d]
    public required GatedBlockMaps Maps;
}

/// <summary>All parameters of a Llama-family model, in Hugging Face's names.</summary>
public sealed class LlamaWeights
{
    public required LlamaConfig Config { get; init; }
    public required Linear Embedding { get; init; }    // model.embed_tokens.weight [V, d]: row v is token v's vector
    public required LlamaLayer[] Layers { get; init; }
    public required float[] FinalNorm { get; init; }   // model.norm.weight [d]
    public required Linear LmHead { get; init; }       // lm_head.weight [V, d], or the embedding when tied

    public static LlamaWeights FromTensors(LlamaConfig c, CheckpointTensors t, string configPath)
    {
        string by = configPath;
        int d = c.DModel;
        var layers = t.Layers("model.layers.", c.NLayers, "num_hidden_layers", by, p => new LlamaLayer
        {
            InputNorm = t.Take(p + "input_layernorm.weight", by, d),
            PostAttentionNorm = t.Take(p + "post_attention_layernorm.weight", by, d),
            Maps = GatedBlockMaps.Take(t, p, by, (d, c.DAttention, c.DKv, c.DMlp), c.QkvBias, c.OutputBias),
        });
        var embedding = Linear.Take(t, "model.embed_tokens", by, c.VocabSize, d, bias: false);
        var w = new LlamaWeights
        {
            Config = c, Embedding = embedding, Layers = layers, FinalNorm = t.Take("model.norm.weight", by, d),
            LmHead = Linear.Head(t, "lm_head", embedding, c.TiedEmbeddings, by),
        };
        t.CheckAllTaken(by, name => name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal));
        return w;
    }
}
