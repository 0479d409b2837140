using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>One GPT-NeoX block's parameters (nn.Linear maps, W stored [out, in]).</summary>
public sealed class GptNeoXLayer
{
    public required float[] Ln1Gamma, Ln1Beta, Ln2Gamma, Ln2Beta;  // input_layernorm, post_attention_layernorm [d]
    /// <summary>query_key_value with its output rows regrouped Q | K | V (heads contiguous), as GPT-2's c_attn.</summary>
    public required Linear Qkv;
    public required Linear Dense, FcIn, FcOut;                      // attention.dense, mlp.dense_h_to_4h, mlp.dense_4h_to_h
}

/// <summary>All parameters of a GPT-NeoX model, in Hugging Face's names.</summary>
public sealed class GptNeoXWeights
{
    public required GptNeoXConfig Config { get; init; }
    public required Linear Embedding { get; init; }                  // gpt_neox.embed_in.weight [V, d]: row v is token v's vector
    public required GptNeoXLayer[] Layers { get; init; }
    public required float[] LnFGamma { get; init; }                  // gpt_neox.final_layer_norm [d]
    public required float[] LnFBeta { get; init; }
    public required Linear Unembed { get; init; }                    // embed_out.weight [V, d]

    public static GptNeoXWeights FromTensors(GptNeoXConfig c, CheckpointTensors t, string configPath)
    {
        string by = configPath;
        int d = c.DModel, m = c.DMlp;
        Linear Map(string name, int outputs, int inputs, bool bias = true) => Linear.Take(t, name, by, outputs, inputs, bias);
        GptNeoXLayer Layer(string p)
        {
            string fused = p + "attention.query_key_value";
            return new GptNeoXLayer
            {
                Ln1Gamma = t.Take(p + "input_layernorm.weight", by, d), Ln1Beta = t.Take(p + "input_layernorm.bias", by, d),
                Ln2Gamma = t.Take(p + "post_attention_layernorm.weight", by, d), Ln2Beta = t.Take(p + "post_attention_layernorm.bias", by, d),
                Qkv = new Linear(Regroup(t.Take(fused + ".weight", by, 3 * d, d), c, d), Regroup(t.Take(fused + ".bias", by, 3 * d), c, 1), d, 3 * d,
                    t.ElementFor(fused + ".weight")),
                Dense = Map(p + "attention.dense", d, d),
                FcIn = Map(p + "mlp.dense_h_to_4h", m, d),
                FcOut = Map(p + "mlp.dense_4h_to_h", d, m),
            };
        }
        var layers = t.Layers("gpt_neox.layers.", c.NLayers, "num_hidden_layers", by, Layer);
        var embedding = Linear.Take(t, "gpt_neox.embed_in", by, c.VocabSize, d, bias: false);
        var w = new GptNeoXWeights
        {
            Config = c, Embedding = embedding, Layers = layers,
            LnFGamma = t.Take("gpt_neox.final_layer_norm.weight", by, d), LnFBeta = t.Take("gpt_neox.final_layer_norm.bias", by, d),
            Unembed = Linear.Head(t, "embed_out", embedding, c.TiedEmbeddings, by),
        };
        t.CheckAllTaken(by, name => name.EndsWith(".attention.bias", StringComparison.Ordinal)
            || name.EndsWith(".attention.masked_bias", StringComparison.Ordinal) || name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal));
        return w;
    }

    /// <summary>
    /// HF stores query_key_value's outputs per head, [q_h | k_h | v_h] for h = 0..H−1; regrouped they are
    /// Q | K | V with heads contiguous. Rows of <paramref name="width"/> values move together.
    /// </summary>
    private static float[] Regroup(float[] fused, GptNeoXConfig c, int width)
    {
        int dh = c.DHead, d = c.DModel;
        var result = new float[fused.Length];
        for (int h = 0; h < c.NHeads; h++)
            for (int part = 0; part < 3; part++)
                fused.AsSpan((h * 3 * dh + part * dh) * width, dh * width).CopyTo(result.AsSpan((part * d + h * dh) * width, dh * width));
        return result;
    }
}
