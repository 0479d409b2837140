using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>
/// The seven nn.Linear maps of a Llama-derived block (W stored [out, in]) under the names Hugging Face gives
/// them in Llama, Qwen2, Mistral, Qwen3, Gemma-2 and Gemma 3 alike: self_attn.{q,k,v,o}_proj and mlp.{gate,up,down}_proj.
/// Those families differ in their norms and activation, which stay in each family's own layer.
/// </summary>
public sealed class GatedBlockMaps
{
    public required Linear Q, K, V, O;   // [H·dh ← d], [Hkv·dh ← d] ×2, [d ← H·dh]
    public required Linear Gate, Up, Down;   // [m ← d] ×2, [d ← m]

    /// <summary>One block's maps from the tensors named <paramref name="prefix"/>…; the MLP has no biases.</summary>
    public static GatedBlockMaps Take(CheckpointTensors t, string prefix, string by, (int D, int Attention, int Kv, int Mlp) width,
        bool qkvBias, bool outputBias)
    {
        Linear Map(string name, int outputs, int inputs, bool bias) => Linear.Take(t, prefix + name, by, outputs, inputs, bias);
        var (d, attention, kv, m) = width;
        return new GatedBlockMaps
        {
            Q = Map("self_attn.q_proj", attention, d, qkvBias),
            K = Map("self_attn.k_proj", kv, d, qkvBias),
            V = Map("self_attn.v_proj", kv, d, qkvBias),
            O = Map("self_attn.o_proj", d, attention, outputBias),
            Gate = Map("mlp.gate_proj", m, d, false),
            Up = Map("mlp.up_proj", m, d, false),
            Down = Map("mlp.down_proj", d, m, false),
        };
    }

    internal RotaryQkv Rotary(Rope rope, int heads, int kvHeads, int headDim) => new(Q, K, V, rope, heads, kvHeads, headDim);

    internal GatedMlp Mlp(RowSteps.Unary activation) => new(Gate, Up, Down, activation);
}
