using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>The hyper-parameters of a Llama-family model (Llama, Qwen2, Mistral, and Qwen3's shapes; config.json names in comments).</summary>
public sealed record LlamaConfig(
    string Architecture,  // architectures[0]
    int VocabSize,        // vocab_size
    int Context,          // max_position_embeddings (capped by sliding_window when set)
    int DModel,           // hidden_size
    int NLayers,          // num_hidden_layers
    int NHeads,           // num_attention_heads
    int NKvHeads,         // num_key_value_heads (grouped-query attention; = NHeads without it)
    int DHead,            // head_dim, or hidden_size / num_attention_heads
    int DMlp,             // intermediate_size
    float RmsNormEps,     // rms_norm_eps
    double RopeTheta,     // rope_theta
    Llama3RopeScaling? RopeScaling,   // rope_scaling (llama3 only)
    bool TiedEmbeddings,  // tie_word_embeddings
    bool QkvBias,         // Qwen2, or Llama's attention_bias
    bool OutputBias,      // Llama's attention_bias (o_proj too)
    int BosTokenId)       // bos_token_id
{
    public int DAttention => NHeads * DHead;
    public int DKv => NKvHeads * DHead;

    public ModelFacts Facts => new(Architecture, VocabSize, Context, DModel, NLayers, NHeads, DHead, DMlp, BosTokenId, GatedMlp: true, ParallelResidual: false);

    public static readonly string[] ModelTypes = ["llama", "qwen2", "mistral"];

    public static LlamaConfig Parse(ConfigJson json)
    {
        string type = json.String("model_type");
        return Parse(json, defaultHeadDim: null, typeQkvBias: type == "qwen2", slidingWindow: type == "mistral");
    }

    /// <summary>
    /// The keys the Llama-shaped families share, with what their model types read differently: the head width without
    /// head_dim (null: hidden_size / num_attention_heads), q/k/v biases whatever attention_bias says (Qwen2), and
    /// whether sliding_window applies (a sequence within the window attends exactly as with full attention).
    /// </summary>
    internal static LlamaConfig Parse(ConfigJson json, int? defaultHeadDim, bool typeQkvBias, bool slidingWindow)
    {
        json = RopeParameters.AsRopeScaling(json);
        string type = json.String("model_type");
        if (json.String("hidden_act", "silu") != "silu")
            throw json.Error("hidden_act", $"is '{json.String("hidden_act")}'; the Llama family runs silu only");
        if (json.Bool("mlp_bias", false)) throw json.Error("mlp_bias", "is true; MLP biases are not supported");
        int d = json.Positive("hidden_size"), heads = json.Positive("num_attention_heads");
        int kv = json.Positive("num_key_value_heads", heads);
        if (heads % kv != 0) throw json.Error("num_key_value_heads", $"{kv} does not divide num_attention_heads {heads}");
        if (!json.Has("head_dim") && defaultHeadDim is null && d % heads != 0) throw json.Error("hidden_size", $"{d} is not divisible by num_attention_heads {heads}");
        int context = json.Positive("max_position_embeddings");
        if (slidingWindow && json.Has("sliding_window")) context = Math.Min(context, json.Positive("sliding_window"));
        int dHead = json.Positive("head_dim", defaultHeadDim ?? d / heads), dMlp = json.Positive("intermediate_size");
        int vocab = json.Positive("vocab_size");
        AttentionShapes.Check(json, vocab, d, heads, kv, dHead, dMlp);
        bool attentionBias = json.Bool("attention_bias", false);
        int bos = json.TokenId("bos_token_id", 1);
        if (bos >= vocab) throw json.Error("bos_token_id", $"{bos} is outside the vocabulary of {vocab}");
        return new LlamaConfig(json.Architecture is "" ? type : json.Architecture, vocab, context, d, json.Positive("num_hidden_layers"),
            heads, kv, dHead, dMlp, json.Epsilon("rms_norm_eps"), json.RotaryBase("rope_theta", 10000), Llama3RopeScaling.Parse(json), json.Bool("tie_word_embeddings", false),
            QkvBias: typeQkvBias || attentionBias, OutputBias: attentionBias, BosTokenId: bos);
    }
}
