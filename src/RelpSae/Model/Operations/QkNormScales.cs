namespace RelpSae.Model;

/// <summary>
/// One block's QK-norm scales (<see cref="QkNorm"/>), from self_attn.q_norm.weight and self_attn.k_norm.weight,
/// [d_head] each, as the norm multiplies by them (Gemma 3's 1 + w already added).
/// </summary>
public sealed record QkNormScales(float[] Q, float[] K);
