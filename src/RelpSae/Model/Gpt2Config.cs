namespace RelpSae.Model;

/// <summary>The hyper-parameters of a GPT-2-family model (Hugging Face config.json names in comments).</summary>
public sealed record Gpt2Config(
    int VocabSize,        // vocab_size
    int NPositions,       // n_positions (or n_ctx)
    int DModel,           // n_embd
    int NLayers,          // n_layer
    int NHeads,           // n_head
    int DMlp,             // n_inner, null → 4·n_embd
    float LayerNormEps,   // layer_norm_epsilon
    string Activation,    // activation_function: only gelu_new (and its alias gelu_pytorch_tanh) is supported
    int BosTokenId)       // bos_token_id: <|endoftext|>, 50256 for GPT-2
{
    public int DHead => DModel / NHeads;

    /// <summary>GPT-2's MLP is ungated (fc → gelu → proj): the Half-rule has no gate·up product to act on.</summary>
    public bool HasGatedMlp => false;
}
