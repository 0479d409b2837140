using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RelpSae.Numerics;

/// <summary>
/// softmax(x) = e^x / Σ e^x, safe at any scale. <c>TensorPrimitives.SoftMax</c> exponentiates x as given: a score or
/// logit above 88.7 gives e^x = ∞ and the row NaN, n terms above 88.7 − ln n sum to ∞, and a row below −103 underflows
/// to 0 / 0. Such a row is shifted by its maximum first (softmax(x) = softmax(x − max), PyTorch's form). Rows that
/// cannot overflow or lose their largest term (max from −64 to 88 − ln n) keep the unshifted form: x − max rounds, by up
/// to half an ulp of the maximum (2·10⁻⁶ at 50), which e^x turns into as much relative error (shifting every row moved a
/// Llama transcoder's error node off the PyTorch reference's by 10⁻⁵ of itself). e^x is <see cref="Exp"/>'s (a span
/// shorter than a vector padded to one), the sum and quotients TensorPrimitives'.
/// </summary>
public static class Softmax
{
    /// <summary>Smallest maximum left unshifted: its e^x stays a normal float, far from underflow.</summary>
    private const float LowestUnshifted = -64;

    /// <summary>destination = softmax(x); in place when they are the same span.</summary>
    public static void Apply(ReadOnlySpan<float> x, Span<float> destination)
    {
        float max = TensorPrimitives.Max(x);
        var y = destination[..x.Length];
        if (max >= LowestUnshifted && max <= 88 - MathF.Log(x.Length)) VectorMap.Apply<ExpFunction>(x, y);
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
        public static Vector512<float> Of(Vector512<float> x) => Exp.Of(x);
    }
}
