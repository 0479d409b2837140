using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>
/// The weight matrices a Llama-shaped config (Llama, Qwen2, Mistral, Qwen3, Gemma-2, Gemma 3) implies, each within one array: heads ×
/// head_dim is formed in 64 bits, so a head_dim of 2³⁰ + 8 cannot wrap around int to the width of a real projection.
/// </summary>
internal static class AttentionShapes
{
    public static void Check(ConfigJson json, int vocab, int d, int heads, int kvHeads, int dHead, int dMlp)
    {
        json.CheckFits("vocab_size", "embed_tokens", vocab, d);
        json.CheckFits("head_dim", "q_proj", (long)heads * dHead, d);
        json.CheckFits("head_dim", "k_proj", (long)kvHeads * dHead, d);
        json.CheckFits("intermediate_size", "up_proj", dMlp, d);
    }
}
