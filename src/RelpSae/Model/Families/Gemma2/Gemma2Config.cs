using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>The hyper-parameters of a Gemma-2 model (config.json names in comments).</summary>
public sealed record Gemma2Config(
    int VocabSize,             // vocab_size
    int Context,               // max_position_embeddings, capped by sliding_window
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

    public ModelFacts Facts => new("Gemma2ForCausalLM", VocabSize, Context, DModel, NLayers, NHeads, DHead, DMlp, BosTokenId, GatedMlp: true, ParallelResidual: false);

    public static Gemma2Config Parse(ConfigJson json)
    {
        // hidden_activation is Gemma-2's key; configs written by older transformers carry hidden_act as well.
        string act = json.String("hidden_activation", json.String("hidden_act", "gelu_pytorch_tanh"));
        if (act is not ("gelu_pytorch_tanh" or "gelu_new"))
            throw json.Error("hidden_activation", $"is '{act}'; Gemma-2 runs gelu_pytorch_tanh (the tanh approximation) only");
        if (json.Has("rope_scaling")) throw json.Error("rope_scaling", "is set; scaled rotary embeddings are not supported");
        int d = json.Positive("hidden_size"), heads = json.Positive("num_attention_heads");
        int kv = json.Positive("num_key_value_heads", heads);
        if (heads % kv != 0) throw json.Error("num_key_value_heads", $"{kv} does not divide num_attention_heads {heads}");
        // Every other layer attends within the sliding window: a sequence inside it attends exactly as with full attention.
        int context = json.Positive("max_position_embeddings");
        if (json.Has("sliding_window")) context = Math.Min(context, json.Positive("sliding_window"));
        double eps = json.Number("rms_norm_eps");
        if (!(eps > 0 && eps < 1)) throw json.Error("rms_norm_eps", $"{eps} is not in (0, 1)");
        int vocab = json.Positive("vocab_size");
        int bos = json.TokenId("bos_token_id", 2);
        if (bos >= vocab) throw json.Error("bos_token_id", $"{bos} is outside the vocabulary of {vocab}");
        return new Gemma2Config(vocab, context, d, json.Positive("num_hidden_layers"), heads, kv, json.Positive("head_dim", 256),
            json.Positive("intermediate_size"), (float)eps, json.Number("rope_theta", 10000), Scalar(json, "query_pre_attn_scalar", 256),
            Cap(json, "attn_logit_softcapping", 50), Cap(json, "final_logit_softcapping", 30), json.Bool("attention_bias", false),
            json.Bool("tie_word_embeddings", true), bos);
    }

    private static float Scalar(ConfigJson json, string key, double fallback)
    {
        double v = json.Number(key, fallback);
        return v > 0 ? (float)v : throw json.Error(key, $"{v} is not positive");
    }

    /// <summary>A soft-cap: null is none; absent is Hugging Face's default.</summary>
    private static float Cap(ConfigJson json, string key, double fallback)
    {
        double v = !json.Written(key) ? fallback : json.Has(key) ? json.Number(key) : 0;
        return v >= 0 ? (float)v : throw json.Error(key, $"{v} is negative");
    }
}
