using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>The hyper-parameters of a Llama-family model (Llama, Qwen2, Mistral; config.json names in comments).</summary>
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
        if (json.String("hidden_act", "silu") != "silu")
            throw json.Error("hidden_act", $"is '{json.String("hidden_act")}'; the Llama family runs silu only");
        if (json.Has("rope_scaling"))
            throw json.Error("rope_scaling", "is set; scaled rotary embeddings are not supported");
        if (json.Bool("mlp_bias", false)) throw json.Error("mlp_bias", "is true; MLP biases are not supported");
        int d = json.Positive("hidden_size"), heads = json.Positive("num_attention_heads");
        int kv = json.Positive("num_key_value_heads", heads);
        if (heads % kv != 0) throw json.Error("num_key_value_heads", $"{kv} does not divide num_attention_heads {heads}");
        if (!json.Has("head_dim") && d % heads != 0) throw json.Error("hidden_size", $"{d} is not divisible by num_attention_heads {heads}");
        int context = json.Positive("max_position_embeddings");
        // A sequence within the sliding window attends exactly as with full attention.
        if (type == "mistral" && json.Has("sliding_window")) context = Math.Min(context, json.Positive("sliding_window"));
        int dHead = json.Positive("head_dim", d / heads), dMlp = json.Positive("intermediate_size");
        int vocab = json.Positive("vocab_size");
        AttentionShapes.Check(json, vocab, d, heads, kv, dHead, dMlp);
        bool attentionBias = json.Bool("attention_bias", false);
        int bos = json.TokenId("bos_token_id", 1);
        if (bos >= vocab) throw json.Error("bos_token_id", $"{bos} is outside the vocabulary of {vocab}");
        return new LlamaConfig(json.Architecture is "" ? type : json.Architecture, vocab, context, d, json.Positive("num_hidden_layers"),
            heads, kv, dHead, dMlp, json.Epsilon("rms_norm_eps"), json.RotaryBase("rope_theta", 10000), json.Bool("tie_word_embeddings", false),
            QkvBias: type == "qwen2" || attentionBias, OutputBias: attentionBias, BosTokenId: bos);
    }
}
