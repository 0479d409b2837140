using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RelpSae.Numerics;

/// <summary>
/// softmax(x) = e^x / Σ e^x, safe at any scale. <c>TensorPrimitives.SoftMax</c> exponentiates x as given: a score or
/// logit above 88.7 gives e^x = ∞ and the row NaN, n terms above 88.7 − ln n sum to ∞, and a row below −103 underflows
/// to 0 / 0. Such a row is shifted by its maximum first (softmax(x) = softmax(x − max), PyTorch's form). Rows that
/// cannot overflow or lose their largest term (max from −64 to 88 − ln n) keep the unshifted form, so every result
/// computed before kept its bits (the small Llama fixture has rows whose maximum passes 64). e^x of a row of a vector or
/// more is <see cref="VectorMap"/>'s (the same values, its slots on cache lines), its sum and quotients TensorPrimitives'.
/// </summary>
public static class Softmax
{
    /// <summary>Smallest maximum left unshifted: its e^x stays a normal float, far from underflow.</summary>
    private const float LowestUnshifted = -64;

    /// <summary>destination = softmax(x); in place when they are the same span.</summary>
    public static void Apply(ReadOnlySpan<float> x, Span<float> destination)
    {
        float max = TensorPrimitives.Max(x);
        bool unshifted = max >= LowestUnshifted && max <= 88 - MathF.Log(x.Length);
        var y = destination[..x.Length];
        if (x.Length < Vector512<float>.Count || !Vector512.IsHardwareAccelerated)
        {
            if (unshifted)
            {
                TensorPrimitives.SoftMax(x, y);
                return;
            }
            TensorPrimitives.Subtract(x, max, y);
            TensorPrimitives.Exp(y, y);
        }
        else if (unshifted) VectorMap.Apply<ExpFunction>(x, y);
        else
        {
            TensorPrimitives.Subtract(x, max, y);
            VectorMap.Apply<ExpFunction>(y, y);
        }
        TensorPrimitives.Divide(y, TensorPrimitives.Sum(y), y);
    }

    private struct ExpFunction : IVectorFunction
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Of(Vector512<float> x) => Vector512.Exp(x);
    }
}
