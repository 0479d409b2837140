using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>
/// All parameters of a Gemma 3 text model, in Hugging Face's names: a Gemma-2's, and each block's QK-norm scales (1 + w,
/// as its other norms). A multimodal checkpoint holds them under language_model.model. (and its head at language_model.lm_head)
/// as transformers before 4.52 saved it, or under model.language_model. (its head at lm_head) as later ones save it; its
/// vision tower and projector are left unread, as Hugging Face's Gemma3ForCausalLM leaves them when it loads such a checkpoint.
/// </summary>
public sealed class Gemma3Weights
{
    public required Gemma3Config Config { get; init; }
    public required Gemma2Weights Gemma2 { get; init; }
    public required QkNormScales[] QkNorms { get; init; }

    public static Gemma3Weights FromTensors(Gemma3Config c, CheckpointTensors t, string configPath)
    {
        string by = configPath;
        bool nested = c.Multimodal && t.Contains("model.language_model.embed_tokens.weight");
        var (model, head, vision) = !c.Multimodal ? ("model.", "lm_head", "")
            : nested ? ("model.language_model.", "lm_head", "model.") : ("language_model.model.", "language_model.lm_head", "");
        int dh = c.Gemma2.DHead;
        var norms = t.Layers(model + "layers.", c.Gemma2.NLayers, "num_hidden_layers", by, p => new QkNormScales(
            Gemma2Weights.OffsetScale(t, p + "self_attn.q_norm.weight", by, dh), Gemma2Weights.OffsetScale(t, p + "self_attn.k_norm.weight", by, dh)));
        // Taken before the Gemma-2's, whose end refuses a tensor no part of the model took.
        var gemma2 = Gemma2Weights.FromTensors(c.Gemma2, t, by, model, head,
            outside: c.Multimodal ? name => name.StartsWith(vision + "vision_tower.", StringComparison.Ordinal) || name.StartsWith(vision + "multi_modal_projector.", StringComparison.Ordinal) : null);
        return new Gemma3Weights { Config = c, Gemma2 = gemma2, QkNorms = norms };
    }
}
