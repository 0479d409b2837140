using System.Numerics.Tensors;

namespace RelpSae.Lrp;

/// <summary>
/// LN-rule: LayerNorm's scale σ is treated as a constant, so the LayerNorm is linear in x and relevance
/// passes through it without being absorbed by the normalisation: dx = (γ⊙g − mean(γ⊙g))/σ — in PyTorch,
/// (x − μ)/σ.detach(). Relevance is conserved up to the bias's share: Σ x·dx = Σ (y − β)·g.
/// </summary>
public static class LayerNormRule
{
    /// <summary>One row: dx += (γ⊙g − mean(γ⊙g))·rstd (x̂ is unused: the centring is all that remains).</summary>
    public static void Backward(ReadOnlySpan<float> g, ReadOnlySpan<float> xhat, float rstd, ReadOnlySpan<float> gamma, Span<float> dx, Span<float> scratch)
    {
        var gg = scratch[..g.Length];
        TensorPrimitives.Multiply(g, gamma, gg);
        float mean = TensorPrimitives.Sum<float>(gg) / g.Length;
        TensorPrimitives.Subtract(gg, mean, gg);
        TensorPrimitives.MultiplyAdd(gg, rstd, dx, dx);
    }
}
