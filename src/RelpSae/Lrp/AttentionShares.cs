namespace RelpSae.Lrp;

/// <summary>
/// How the backward pass splits the gradient of z = A·v (A = softmax(q·kᵀ/√d_head)) between its
/// factors: <see cref="Value"/> scales dv = Aᵀdz, <see cref="Pattern"/> scales dA = dz·vᵀ (then the
/// softmax backward), and <see cref="QueryKey"/> scales the split of the score product q·kᵀ into dq, dk.
/// </summary>
public readonly record struct AttentionShares(float Value, float Pattern, float QueryKey)
{
    /// <summary>The exact gradient: the product rule gives each factor the whole product.</summary>
    public static readonly AttentionShares Gradient = new(1, 1, 1);

    /// <summary>AH-rule: the pattern is frozen, only dv = Aᵀdz flows; dq = dk = 0.</summary>
    public static readonly AttentionShares AttentionHeadRule = new(1, 0, 0);

    /// <summary>
    /// half-attn (AttnLRP's uniform rule, not the seed's Half-rule): each factor of a bilinear product
    /// gets half: dv = ½Aᵀdz, dA = ½dz·vᵀ, and the q·kᵀ product halves again into q and k.
    /// </summary>
    public static readonly AttentionShares HalfRule = new(0.5f, 0.5f, 0.5f);
}
