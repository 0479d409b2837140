using System.Numerics.Tensors;

namespace RelpSae.Lrp;

/// <summary>
/// The LN-rule for RMSNorm: the scale r = 1/rms(x) is treated as a constant, so y = γ⊙x·r is linear in x
/// and dx = r·γ⊙g — in PyTorch, x·rsqrt(mean(x²) + eps).detach(). Relevance is conserved exactly: Σ x·dx = Σ y·g.
/// </summary>
public static class RmsNormRule
{
    /// <summary>One row: dx += r·γ⊙g (x̂ is unused: the signature is every <see cref="NormBackward"/>'s).</summary>
    public static void Backward(ReadOnlySpan<float> g, ReadOnlySpan<float> xhat, float rstd, ReadOnlySpan<float> gamma, Span<float> dx, Span<float> scratch)
    {
        var gg = scratch[..g.Length];
        TensorPrimitives.Multiply(g, gamma, gg);
        TensorPrimitives.MultiplyAdd(gg, rstd, dx, dx);
    }
}
