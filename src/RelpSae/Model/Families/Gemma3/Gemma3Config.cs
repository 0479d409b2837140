using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>
/// Gemma 3's config.json as Hugging Face's Gemma3TextConfig reads it (config names in comments): the block's keys as
/// Gemma-2's, and which layers attend within a sliding window and how each layer rotates. A multimodal checkpoint
/// (model_type "gemma3", Gemma3ForConditionalGeneration) is read as its text_config and its language model's tensors.
/// </summary>
public sealed record Gemma3Config(
    Gemma2Config Gemma2,        // the shared keys; soft-caps none unless set, context max_position_embeddings
    bool[] Sliding,             // layer_types ("sliding_attention"), else every layer but each sliding_window_pattern-th
    int SlidingWindow,          // sliding_window: the keys a sliding layer sees, its own included
    double LocalRopeTheta,      // rope_local_base_freq: the sliding layers' rotary base (rope_theta is the global layers')
    float GlobalRopeFactor,     // rope_scaling {"rope_type": "linear", "factor"}: the global layers' frequencies divided by it
    bool Multimodal)            // model_type "gemma3": tensors under language_model., the vision tower's left unread
{
    /// <summary>Gemma3TextConfig's defaults, which a multimodal config's text_config leaves out.</summary>
    private const string TextDefaults = """
        {"vocab_size": 262208, "hidden_size": 2304, "intermediate_size": 9216, "num_hidden_layers": 26, "num_attention_heads": 8,
         "num_key_value_heads": 4, "head_dim": 256, "max_position_embeddings": 131072, "rms_norm_eps": 1e-6, "rope_theta": 1000000.0,
         "query_pre_attn_scalar": 256, "sliding_window": 4096, "attn_logit_softcapping": null, "final_logit_softcapping": null,
         "rope_local_base_freq": 10000.0, "sliding_window_pattern": 6, "bos_token_id": 2, "tie_word_embeddings": true}
        """;

    public ModelFacts Facts => Gemma2.Facts;

    public static Gemma3Config Parse(ConfigJson json)
    {
        bool multimodal = json.String("model_type", "") == "gemma3";
        var text = RopeParameters.AsRopeScaling((multimodal ? json.Section("text_config") : json).WithDefaults(TextDefaults));
        if (text.Bool("use_bidirectional_attention", false))
            throw text.Error("use_bidirectional_attention", "is true; only causal attention is supported");
        var gemma2 = Gemma2Config.Parse(text, json.Architecture is "" ? "Gemma3ForCausalLM" : json.Architecture);
        return new Gemma3Config(gemma2, SlidingLayers(text, gemma2.NLayers), text.Positive("sliding_window"),
            text.RotaryBase("rope_local_base_freq", 10000), RopeFactor(text), multimodal);
    }

    private static bool[] SlidingLayers(ConfigJson text, int layers)
    {
        if (!text.Has("layer_types"))
        {
            int pattern = text.Positive("sliding_window_pattern");
            return [.. Enumerable.Range(0, layers).Select(l => (l + 1) % pattern != 0)];
        }
        var types = text.Strings("layer_types");
        if (types.Length != layers) throw text.Error("layer_types", $"lists {types.Length} layers, num_hidden_layers is {layers}");
        return [.. types.Select(t => t switch
        {
            "sliding_attention" => true,
            "full_attention" => false,
            _ => throw text.Error("layer_types", $"holds '{t}'; the layer types are sliding_attention and full_attention"),
        })];
    }

    /// <summary>The global layers' linear rotary factor (1: none).</summary>
    private static float RopeFactor(ConfigJson text)
    {
        if (!text.Has("rope_scaling")) return 1;
        var s = text.Section("rope_scaling");
        string type = s.Has("rope_type") ? s.String("rope_type") : s.String("type", "(none)");
        return type switch
        {
            "default" => 1,
            "linear" => (float)s.PositiveFloat32("factor"),
            _ => throw text.Error("rope_scaling", $"type '{type}' is not supported; Gemma 3 runs linear scaling only"),
        };
    }
}
