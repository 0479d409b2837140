using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// GPT-2's gelu_new: ½u(1 + tanh y), y = √(2/π)(u + 0.044715u³), computed as u·σ(2y) (since ½(1 + tanh y) = σ(2y)):
/// one e^x (<see cref="Exp"/>) and one division a value, and no cancellation in 1 + tanh y where y is very negative,
/// which the tanh form loses to rounding.
/// </summary>
public static class Gelu
{
    private const float C = 0.7978845608028654f; // √(2/π)
    private const float A = 0.044715f;

    /// <summary>Elements of the slope computed at a time (on the stack), before it multiplies the gradient.</summary>
    private const int Chunk = 512;

    public static void Forward(ReadOnlySpan<float> u, Span<float> post) => VectorMap.Apply<Value>(u, post);

    private struct Value : IVectorFunction
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Of(Vector512<float> u) => u * Sigmoid(u, out _, out _);
    }

    /// <summary>
    /// s = σ(2y), y = C(u + A·u³): with t = e^(−2|y|) ≤ 1 and q = 1 / (1 + t), s is q where y ≥ 0 and t·q where not,
    /// and 1 − s the other one (s(1 − s) = t·q² either way): nothing overflows, nothing cancels.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static Vector512<float> Sigmoid(Vector512<float> u, out Vector512<float> tq, out Vector512<float> q)
    {
        var y = (u * u * u * A + u) * C;
        var t = Exp.Of(Vector512.Abs(y) * -2f);
        q = Vector512<float>.One / (Vector512<float>.One + t);
        tq = t * q;
        return Vector512.ConditionalSelect(Vector512.GreaterThanOrEqual(y, Vector512<float>.Zero), q, tq);
    }

    /// <summary>
    /// The exact derivative (an <see cref="Lrp.ElementwiseBackward"/>): du = g·(s + 2C·u(1 + 3A·u²)·s(1 − s)), s = σ(2y),
    /// s(1 − s) = t·q² (<see cref="Sigmoid"/>), 0 where t is before it meets u³.
    /// </summary>
    public static void Gradient(ReadOnlySpan<float> u, ReadOnlySpan<float> post, ReadOnlySpan<float> g, Span<float> du)
    {
        // g and du may be one buffer: the slope goes to a chunk on the stack, then du = slope·g.
        Span<float> s = stackalloc float[Chunk];
        for (int i = 0; i < u.Length; i += Chunk)
        {
            int n = Math.Min(Chunk, u.Length - i);
            VectorMap.Apply<Slope>(u.Slice(i, n), s[..n]);
            TensorPrimitives.Multiply(s[..n], g.Slice(i, n), du.Slice(i, n));
        }
    }

    private struct Slope : IVectorFunction
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Of(Vector512<float> u)
        {
            var s = Sigmoid(u, out var tq, out var q);
            return s + tq * q * u * ((u * u) * (3 * A) + Vector512<float>.One) * (2 * C);
        }
    }
}
