using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>
/// One Gemma-2 block's parameters: four RMSNorm scales, held as the 1 + w the norm multiplies by (Gemma
/// stores the offset w), and the block's linear maps.
/// </summary>
public sealed class Gemma2Layer
{
    public required float[] InputNorm, PostAttentionNorm, PreFeedforwardNorm, PostFeedforwardNorm;   // [d], as 1 + w
    public required GatedBlockMaps Maps;
}

/// <summary>All parameters of a Gemma-2 model, in Hugging Face's names.</summary>
public sealed class Gemma2Weights
{
    public required Gemma2Config Config { get; init; }
    public required Linear Embedding { get; init; }    // model.embed_tokens.weight [V, d], unscaled: row v is token v's vector
    public required Gemma2Layer[] Layers { get; init; }
    public required float[] FinalNorm { get; init; }   // model.norm.weight [d], as 1 + w
    public required Linear LmHead { get; init; }       // the embedding (tied), or lm_head.weight [V, d]

    /// <summary>
    /// The weights, the text model's under <paramref name="model"/> and its head at <paramref name="head"/> (Gemma 3's multimodal
    /// checkpoints move both; see Gemma3Weights); tensors <paramref name="outside"/> says belong to another part of the checkpoint are left unread.
    /// </summary>
    public static Gemma2Weights FromTensors(Gemma2Config c, CheckpointTensors t, string configPath, string model = "model.", string head = "lm_head",
        Func<string, bool>? outside = null)
    {
        string by = configPath;
        int d = c.DModel;
        var layers = t.Layers(model + "layers.", c.NLayers, "num_hidden_layers", by, p => new Gemma2Layer
        {
            InputNorm = OffsetScale(t, p + "input_layernorm.weight", by, d),
            PostAttentionNorm = OffsetScale(t, p + "post_attention_layernorm.weight", by, d),
            PreFeedforwardNorm = OffsetScale(t, p + "pre_feedforward_layernorm.weight", by, d),
            PostFeedforwardNorm = OffsetScale(t, p + "post_feedforward_layernorm.weight", by, d),
            Maps = GatedBlockMaps.Take(t, p, by, (d, c.DAttention, c.DKv, c.DMlp), c.AttentionBias, c.AttentionBias),
        });
        var embedding = Linear.Take(t, model + "embed_tokens", by, c.VocabSize, d, bias: false);
        var w = new Gemma2Weights
        {
            Config = c, Embedding = embedding, Layers = layers, FinalNorm = OffsetScale(t, model + "norm.weight", by, d),
            LmHead = Linear.Head(t, head, embedding, c.TiedEmbeddings, by),
        };
        t.CheckAllTaken(by, name => name.EndsWith(".rotary_emb.inv_freq", StringComparison.Ordinal) || (outside?.Invoke(name) ?? false));
        return w;
    }

    /// <summary>A Gemma RMSNorm's scale [<paramref name="size"/>], stored as the offset w, held as the 1 + w the norm multiplies by.</summary>
    internal static float[] OffsetScale(CheckpointTensors t, string name, string by, int size)
    {
        var w = t.Take(name, by, size);
        for (int i = 0; i < w.Length; i++) w[i] += 1;
        return w;
    }
}
