namespace RelpSae.Model;

/// <summary>
/// How a head's scores come from q·kᵀ before the causal softmax: times <see cref="Scale"/> (1/√d_head, or
/// Gemma's query_pre_attn_scalar^−½), then soft-capped (Gemma-2's attn_logit_softcapping; none elsewhere), over the
/// keys the mask leaves: every earlier one, or with a <see cref="Window"/> (Gemma 3's sliding layers) the last
/// Window of them, the query's own included (a key j is seen from query i when i − Window &lt; j ≤ i, as Hugging Face's
/// sliding-window mask).
/// </summary>
public readonly record struct AttentionScores(float Scale, Softcap Cap, int Window = 0)
{
    /// <summary>The first key query row <paramref name="query"/> sees.</summary>
    public int FirstKey(int query) => Window > 0 ? Math.Max(0, query - Window + 1) : 0;

    public static AttentionScores Standard(int headDim) => new(1f / MathF.Sqrt(headDim), default);
}
