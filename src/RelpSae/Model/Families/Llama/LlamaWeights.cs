using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>One Llama block's parameters: RMSNorm scales and nn.Linear maps (W stored [out, in]).</summary>
public sealed class LlamaLayer
{
    public required float[] InputNorm, PostAttentionNorm;   // [d]
    public required Linear Q, K, V, O;                      // [H·dh ← d], [Hkv·dh ← d] ×2, [d ← H·dh]
    public required Linear Gate, Up, Down;                  // [m ← d] ×2, [d ← m]
}

/// <summary>All parameters of a Llama-family model, in Hugging Face's names.</summary>
public sealed class LlamaWeights
{
    public required LlamaConfig Config { get; init; }
    public required float[] Embedding { get; init; }   // model.embed_tokens.weight [V, d]
    public required LlamaLayer[] Layers { get; init; }
    public required float[] FinalNorm { get; init; }   // model.norm.weight [d]
    public required Linear LmHead { get; init; }       // lm_head.weight [V, d], or the embedding when tied

    public static LlamaWeights FromTensors(LlamaConfig c, CheckpointTensors t, string configPath)
    {
        string by = configPath;
        int d = c.DModel, m = c.DMlp;
        Linear Map(string name, int outputs, int inputs, bool bias = true) => Linear.Take(t, name, by, outputs, inputs, bias);
        var layers = t.Layers("model.layers.", c.NLayers, "num_hidden_layers", by, p => new LlamaLayer
        {
            InputNorm = t.Take(p + "input_layernorm.weight", by, d),
            Q = Map(p + "self_attn.q_proj", c.DAttention, d, c.QkvBias),
            K = Map(p + "self_attn.k_proj", c.DKv, d, c.QkvBias),
            V = Map(p + "self_attn.v_proj", c.DKv, d, c.QkvBias),
            O = Map(p + "self_attn.o_proj", d, c.DAttention, c.OutputBias),
            PostAttentionNorm = t.Take(p + "post_attention_layernorm.weight", by, d),
            Gate = Map(p + "mlp.gate_proj", m, d, false),
            Up = Map(p + "mlp.up_proj", m, d, false),
            Down = Map(p + "mlp.down_proj", d, m, false),
        });
        var embedding = t.Take("model.embed_tokens.weight", by, c.VocabSize, d);
        var head = t.Head("lm_head.weight", embedding, c.TiedEmbeddings, by, c.VocabSize, d);
        var w = new LlamaWeights
        {
            Config = c, Embedding = embedding, Layers = layers, FinalNorm = t.Take("model.norm.weight", by, d),
            LmHead = new Linear(head, null, d, c.VocabSize),
        };
        t.CheckAllTaken(by, name => name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal));
        return w;
    }
}
