using System.Numerics.Tensors;

namespace RelpSae.Numerics;

/// <summary>
/// softmax(x) = e^x / Σ e^x, safe at any scale. <c>TensorPrimitives.SoftMax</c> exponentiates x as given: a score or
/// logit above 88.7 gives e^x = ∞ and the row NaN, n terms above 88.7 − ln n sum to ∞, and a row below −103 underflows
/// to 0 / 0. Such a row is shifted by its maximum first (softmax(x) = softmax(x − max), PyTorch's form). Rows that
/// cannot overflow or lose their largest term (max from −64 to 88 − ln n) keep the unshifted form, so every result
/// computed before stays as it was, bit for bit (the embedded SAE, trained on the forward's activations, retrains
/// identically; the small Llama fixture has rows whose maximum passes 64).
/// </summary>
public static class Softmax
{
    /// <summary>Smallest maximum left unshifted: its e^x stays a normal float, far from underflow.</summary>
    private const float LowestUnshifted = -64;

    /// <summary>destination = softmax(x); in place when they are the same span.</summary>
    public static void Apply(ReadOnlySpan<float> x, Span<float> destination)
    {
        float max = TensorPrimitives.Max(x);
        if (max >= LowestUnshifted && max <= 88 - MathF.Log(x.Length))
        {
            TensorPrimitives.SoftMax(x, destination);
            return;
        }
        var shifted = destination[..x.Length];
        TensorPrimitives.Subtract(x, max, shifted);
        TensorPrimitives.Exp(shifted, shifted);
        TensorPrimitives.Divide(shifted, TensorPrimitives.Sum(shifted), shifted);
    }
}
