using System.Numerics.Tensors;

namespace RelpSae.Model;

/// <summary>
/// Gemma-2's soft-capping, s ↦ c·tanh(s/c): attention scores (attn_logit_softcapping) and logits
/// (final_logit_softcapping) bend smoothly into ±c. A cap of 0 is none, and every method is then the identity.
/// </summary>
public readonly record struct Softcap(float Cap)
{
    public bool IsSet => Cap > 0;

    public float Apply(float s) => IsSet ? Cap * MathF.Tanh(s / Cap) : s;

    /// <summary>In place, as HF computes it: divide, tanh, multiply.</summary>
    public void Apply(Span<float> s)
    {
        if (!IsSet) return;
        TensorPrimitives.Divide(s, Cap, s);
        Numerics.Tanh.Apply(s);
        TensorPrimitives.Multiply(s, Cap, s);
    }

    /// <summary>
    /// The exact gradient of a set cap (an <see cref="Lrp.ElementwiseBackward"/>, so that the Identity-rule can
    /// stand in for it): ds = g·(1 − (capped/c)²), from the raw scores <paramref name="s"/> and their capped values.
    /// </summary>
    public void Gradient(ReadOnlySpan<float> s, ReadOnlySpan<float> capped, ReadOnlySpan<float> g, Span<float> ds)
    {
        for (int i = 0; i < s.Length; i++)
        {
            float t = capped[i] / Cap;
            ds[i] = g[i] * (1 - t * t);
        }
    }

    /// <summary>
    /// g ⊙= the slope of a set cap at each of <paramref name="scaled"/> (scores already scaled, not yet
    /// capped), which is overwritten: the attention backward's chain through the cap, with scores it recomputes.
    /// </summary>
    public void MultiplySlope(Span<float> scaled, Span<float> g)
    {
        Apply(scaled);
        TensorPrimitives.Divide(scaled, Cap, scaled);
        TensorPrimitives.Multiply(scaled, scaled, scaled);
        TensorPrimitives.Subtract(1f, scaled, scaled);
        TensorPrimitives.Multiply(g, scaled, g);
    }
}
