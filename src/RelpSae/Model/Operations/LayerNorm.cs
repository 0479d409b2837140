using System.Numerics.Tensors;

namespace RelpSae.Model;

/// <summary>LayerNorm over the last dimension: y = (x − μ)/σ ⊙ γ + β, σ = √(var(x) + eps).</summary>
public static class LayerNorm
{
    /// <summary>Normalises each of <paramref name="rows"/> rows; keeps x̂ and 1/σ for the backward pass.</summary>
    public static void Forward(ReadOnlySpan<float> x, Span<float> xhat, Span<float> rstd, Span<float> y,
        ReadOnlySpan<float> gamma, ReadOnlySpan<float> beta, int rows, float eps)
    {
        int d = gamma.Length;
        for (int r = 0; r < rows; r++)
        {
            var xr = x.Slice(r * d, d);
            var hr = xhat.Slice(r * d, d);
            float mean = TensorPrimitives.Sum(xr) / d;
            TensorPrimitives.Subtract(xr, mean, hr);
            float variance = TensorPrimitives.SumOfSquares<float>(hr) / d;
            float s = 1f / MathF.Sqrt(variance + eps);
            rstd[r] = s;
            TensorPrimitives.Multiply(hr, s, hr);
            TensorPrimitives.FusedMultiplyAdd(hr, gamma, beta, y.Slice(r * d, d));
        }
    }

    /// <summary>The exact gradient of one row: dx += (γ⊙g − mean(γ⊙g) − x̂·mean(γ⊙g⊙x̂))/σ.</summary>
    public static void Gradient(ReadOnlySpan<float> g, ReadOnlySpan<float> xhat, float rstd, ReadOnlySpan<float> gamma, Span<float> dx, Span<float> scratch)
    {
        int d = g.Length;
        var gg = scratch[..d];
        TensorPrimitives.Multiply(g, gamma, gg);
        float mean = TensorPrimitives.Sum<float>(gg) / d;
        float meanDotXhat = TensorPrimitives.Dot(gg, xhat) / d;
        TensorPrimitives.Subtract(gg, mean, gg);
        TensorPrimitives.MultiplyAdd(xhat, -meanDotXhat, gg, gg);
        TensorPrimitives.MultiplyAdd(gg, rstd, dx, dx);
    }
}
