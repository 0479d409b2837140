using System.Numerics.Tensors;

namespace RelpSae.Model;

/// <summary>
/// RMSNorm (Llama family, HF LlamaRMSNorm): y = γ ⊙ x·r, r = 1/√(mean(x²) + eps). Its backward is a
/// <see cref="Lrp.NormBackward"/>: x̂ = x·r and r are kept, so the rules plug in the same way.
/// </summary>
public static class RmsNorm
{
    public static void Forward(ReadOnlySpan<float> x, Span<float> xhat, Span<float> rstd, Span<float> y, ReadOnlySpan<float> gamma, int rows, float eps)
    {
        int d = gamma.Length;
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * d, d);
            var hr = xhat.Slice(r * d, d);
            float s = 1f / MathF.Sqrt(TensorPrimitives.SumOfSquares(xr) / d + eps);
            rstd[r] = s;
            TensorPrimitives.Multiply(xr, s, hr);
            TensorPrimitives.Multiply(hr, gamma, y.Slice(r * d, d));
        }
    }

    /// <summary>The exact gradient of one row: dx += r·(γ⊙g − x̂·mean(γ⊙g⊙x̂)).</summary>
    public static void Gradient(ReadOnlySpan<float> g, ReadOnlySpan<float> xhat, float rstd, ReadOnlySpan<float> gamma, Span<float> dx, Span<float> scratch)
    {
        int d = g.Length;
        var gg = scratch[..d];
        TensorPrimitives.Multiply(g, gamma, gg);
        float meanDotXhat = TensorPrimitives.Dot(gg, xhat) / d;
        TensorPrimitives.MultiplyAdd(xhat, -meanDotXhat, gg, gg);
        TensorPrimitives.MultiplyAdd(gg, rstd, dx, dx);
    }
}
