namespace RelpSae.Model;

/// <summary>
/// How a head's scores come from q·kᵀ before the causal softmax: times <see cref="Scale"/> (1/√d_head, or
/// Gemma-2's query_pre_attn_scalar^−½), then soft-capped (Gemma-2's attn_logit_softcapping; none elsewhere).
/// </summary>
public readonly record struct AttentionScores(float Scale, Softcap Cap)
{
    public static AttentionScores Standard(int headDim) => new(1f / MathF.Sqrt(headDim), default);
}
