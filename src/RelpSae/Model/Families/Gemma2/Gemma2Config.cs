using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>The hyper-parameters of a Gemma-2 model, and Gemma 3's shared with it (config.json names in comments).</summary>
public sealed record Gemma2Config(
    string Architecture,       // Gemma2ForCausalLM, or the Gemma 3 architecture read as this block
    int VocabSize,             // vocab_size
    int Context,               // max_position_embeddings (Gemma-2: capped by sliding_window)
    int DModel,                // hidden_size
    int NLayers,               // num_hidden_layers
    int NHeads,                // num_attention_heads
    int NKvHeads,              // num_key_value_heads
    int DHead,                 // head_dim (not hidden_size / num_attention_heads in general)
    int DMlp,                  // intermediate_size
    float RmsNormEps,          // rms_norm_eps
    double RopeTheta,          // rope_theta
    float QueryPreAttnScalar,  // query_pre_attn_scalar: scores are q·kᵀ / √(this)
    float AttentionSoftcap,    // attn_logit_softcapping (0: none)
    float LogitSoftcap,        // final_logit_softcapping (0: none)
    bool AttentionBias,        // attention_bias (q, k, v and o)
    bool TiedEmbeddings,       // tie_word_embeddings
    int BosTokenId)            // bos_token_id
{
    public int DAttention => NHeads * DHead;
    public int DKv => NKvHeads * DHead;

    public ModelFacts Facts => new(Architecture, VocabSize, Context, DModel, NLayers, NHeads, DHead, DMlp, BosTokenId, GatedMlp: true, ParallelResidual: false);

    public static Gemma2Config Parse(ConfigJson json)
    {
        if (json.Has("rope_scaling")) throw json.Error("rope_scaling", "is set; scaled rotary embeddings are not supported");
        return Parse(json, "Gemma2ForCausalLM", windowCapsContext: true);
    }

    /// <summary>
    /// The keys Gemma-2 and Gemma 3 share. With <paramref name="windowCapsContext"/> (Gemma-2, whose sliding layers
    /// attend over every key here) the context stops at sliding_window, within which a sliding layer attends as a global one.
    /// </summary>
    internal static Gemma2Config Parse(ConfigJson json, string architecture, bool windowCapsContext)
    {
        // hidden_activation is Gemma's key; configs written by older transformers carry hidden_act as well.
        string act = json.String("hidden_activation", json.String("hidden_act", "gelu_pytorch_tanh"));
        if (act is not ("gelu_pytorch_tanh" or "gelu_new"))
            throw json.Error("hidden_activation", $"is '{act}'; Gemma runs gelu_pytorch_tanh (the tanh approximation) only");
        int d = json.Positive("hidden_size"), heads = json.Positive("num_attention_heads");
        int kv = json.Positive("num_key_value_heads", heads);
        if (heads % kv != 0) throw json.Error("num_key_value_heads", $"{kv} does not divide num_attention_heads {heads}");
        // Every other layer attends within the sliding window: a sequence inside it attends exactly as with full attention.
        int context = json.Positive("max_position_embeddings");
        if (windowCapsContext && json.Has("sliding_window")) context = Math.Min(context, json.Positive("sliding_window"));
        int vocab = json.Positive("vocab_size"), dHead = json.Positive("head_dim", 256), dMlp = json.Positive("intermediate_size");
        AttentionShapes.Check(json, vocab, d, heads, kv, dHead, dMlp);
        int bos = json.TokenId("bos_token_id", 2);
        if (bos >= vocab) throw json.Error("bos_token_id", $"{bos} is outside the vocabulary of {vocab}");
        return new Gemma2Config(architecture, vocab, context, d, json.Positive("num_hidden_layers"), heads, kv, dHead, dMlp, json.Epsilon("rms_norm_eps"),
            json.RotaryBase("rope_theta", 10000), (float)json.PositiveFloat32("query_pre_attn_scalar", 256),
            Cap(json, "attn_logit_softcapping", 50), Cap(json, "final_logit_softcapping", 30), json.Bool("attention_bias", false),
            json.Bool("tie_word_embeddings", true), bos);
    }

    /// <summary>A soft-cap: null (or 0) is none; absent is Hugging Face's default.</summary>
    private static float Cap(ConfigJson json, string key, double fallback)
    {
        if (!json.Written(key)) return (float)fallback;
        // 0, like null, is no cap; any other cap must stay a positive float32 (∞ would make c·tanh(s/c) NaN).
        return !json.Has(key) || json.Number(key) == 0 ? 0 : (float)json.PositiveFloat32(key);
    }
}
