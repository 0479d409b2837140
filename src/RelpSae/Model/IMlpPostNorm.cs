namespace RelpSae.Model;

/// <summary>
/// A family whose MLP output passes a norm before it joins the residual stream (Gemma's post-feedforward RMSNorm, scale
/// 1 + w): what lies between mlp.hook_out and hook_mlp_out, for a splice at mlp.hook_out to run and differentiate.
/// </summary>
public interface IMlpPostNorm
{
    /// <summary>Block <paramref name="layer"/>'s post-MLP RMSNorm: its scale γ [d_model] and eps.</summary>
    (float[] Gamma, float Eps) MlpPostNorm(int layer);
}
