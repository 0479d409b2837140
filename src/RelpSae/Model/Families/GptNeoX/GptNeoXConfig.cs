using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>The hyper-parameters of a GPT-NeoX model (Pythia; config.json names in comments).</summary>
public sealed record GptNeoXConfig(
    int VocabSize,          // vocab_size
    int Context,            // max_position_embeddings
    int DModel,             // hidden_size
    int NLayers,            // num_hidden_layers
    int NHeads,             // num_attention_heads
    int DMlp,               // intermediate_size
    int RotaryDims,         // int(d_head · rotary_pct): the leading dims of each head that rotate
    double RopeTheta,       // rotary_emb_base (rope_theta in newer configs)
    float LayerNormEps,     // layer_norm_eps
    bool ParallelResidual,  // use_parallel_residual: x + attn(LN₁(x)) + mlp(LN₂(x))
    bool ExactGelu,         // hidden_act: "gelu" (erf) or "gelu_new" / "gelu_pytorch_tanh" (tanh)
    bool TiedEmbeddings,    // tie_word_embeddings
    int BosTokenId)         // bos_token_id
{
    public int DHead => DModel / NHeads;

    public ModelFacts Facts => new("GPTNeoXForCausalLM", VocabSize, Context, DModel, NLayers, NHeads, DHead, DMlp, BosTokenId,
        GatedMlp: false, ParallelResidual: ParallelResidual);

    public static GptNeoXConfig Parse(ConfigJson json)
    {
        string act = json.String("hidden_act", "gelu");
        if (act is not ("gelu" or "gelu_new" or "gelu_pytorch_tanh"))
            throw json.Error("hidden_act", $"is '{act}'; GPT-NeoX runs gelu, gelu_new or gelu_pytorch_tanh");
        if (json.Has("rope_scaling")) throw json.Error("rope_scaling", "is set; scaled rotary embeddings are not supported");
        if (!json.Bool("attention_bias", true)) throw json.Error("attention_bias", "is false; GPT-NeoX without attention biases is not supported");
        int d = json.Positive("hidden_size"), heads = json.Positive("num_attention_heads");
        if (d % heads != 0) throw json.Error("hidden_size", $"{d} is not divisible by num_attention_heads {heads}");
        double pct = json.Number("rotary_pct", 0.25);
        if (!(pct > 0 && pct <= 1)) throw json.Error("rotary_pct", $"{pct} is not in (0, 1]");
        int rotary = (int)(d / heads * pct);
        if (rotary % 2 != 0 || rotary == 0) throw json.Error("rotary_pct", $"{pct} gives {rotary} rotary dims per head; an even, positive count is needed");
        int vocab = json.Positive("vocab_size"), dMlp = json.Positive("intermediate_size");
        json.CheckFits("vocab_size", "embed_in", vocab, d);
        json.CheckFits("hidden_size", "query_key_value", 3L * d, d);
        json.CheckFits("intermediate_size", "dense_h_to_4h", dMlp, d);
        int bos = json.TokenId("bos_token_id", 0);
        if (bos >= vocab) throw json.Error("bos_token_id", $"{bos} is outside the vocabulary of {vocab}");
        return new GptNeoXConfig(vocab, json.Positive("max_position_embeddings"), d, json.Positive("num_hidden_layers"), heads,
            dMlp, rotary, json.RotaryBase("rope_theta", json.RotaryBase("rotary_emb_base", 10000)), json.Epsilon("layer_norm_eps", 1e-5),
            json.Bool("use_parallel_residual", true), act == "gelu", json.Bool("tie_word_embeddings", false), bos);
    }
}
