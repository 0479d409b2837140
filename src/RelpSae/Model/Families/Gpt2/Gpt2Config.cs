using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>
/// The hyper-parameters of a GPT-2-family model (Hugging Face config.json names in comments), read from
/// config.json refusing what we cannot run.
/// </summary>
public sealed record Gpt2Config(
    int VocabSize,        // vocab_size
    int NPositions,       // n_positions (or n_ctx)
    int DModel,           // n_embd
    int NLayers,          // n_layer
    int NHeads,           // n_head
    int DMlp,             // n_inner, null → 4·n_embd
    float LayerNormEps,   // layer_norm_epsilon
    string Activation,    // activation_function: only gelu_new (and its alias gelu_pytorch_tanh) is supported
    int BosTokenId,       // bos_token_id: <|endoftext|>, 50256 for GPT-2
    bool TiedEmbeddings = true)   // tie_word_embeddings: the output head is wte (as GPT2LMHeadModel ties it), else lm_head
{
    public int DHead => DModel / NHeads;

    public ModelFacts Facts => new("GPT2LMHeadModel", VocabSize, NPositions, DModel, NLayers, NHeads, DHead, DMlp, BosTokenId,
        GatedMlp: false, ParallelResidual: false, ContextKey: "n_positions", WidthKey: "n_embd", LearnedPositions: true);

    public static Gpt2Config Read(string path) => Parse(ConfigJson.Read(path));

    public static Gpt2Config Parse(ConfigJson json)
    {
        string modelType = json.String("model_type");
        if (modelType != "gpt2")
            throw json.Error("model_type", $"is '{modelType}', only 'gpt2' is supported");
        string activation = json.String("activation_function");
        if (activation is not ("gelu_new" or "gelu_pytorch_tanh"))
            throw json.Error("activation_function", $"'{activation}' is not supported (only gelu_new and gelu_pytorch_tanh)");

        int dModel = json.Positive("n_embd");
        int nHeads = json.Positive("n_head");
        if (dModel % nHeads != 0)
            throw json.Error("n_embd", $"{dModel} is not divisible by n_head {nHeads}");
        int nPositions = json.Written("n_positions") ? json.Positive("n_positions") : json.Positive("n_ctx");
        long dMlp = json.Has("n_inner") ? json.Positive("n_inner") : 4L * dModel;
        int vocab = json.Positive("vocab_size");
        int bos = json.TokenId("bos_token_id", 50256);
        if (bos >= vocab)
            throw json.Error("bos_token_id", $"{bos} is outside the vocabulary of {vocab}");
        // Every weight matrix must fit one array: n_embd 10⁹ would otherwise overflow the shapes.
        json.CheckFits("n_embd", "wte", vocab, dModel);
        json.CheckFits("n_embd", "wpe", nPositions, dModel);
        json.CheckFits("n_embd", "c_attn", dModel, 3L * dModel);
        json.CheckFits(json.Has("n_inner") ? "n_inner" : "n_embd", "c_fc", dModel, dMlp);
        return new Gpt2Config(vocab, nPositions, dModel, json.Positive("n_layer"), nHeads, (int)dMlp, json.Epsilon("layer_norm_epsilon"), "gelu_new", bos,
            json.Bool("tie_word_embeddings", true));
    }
}
