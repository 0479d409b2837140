using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// GPT-2's gelu_new: ½u(1 + tanh(√(2/π)(u + 0.044715u³))), computed as u·σ(2s) with s = √(2/π)(u + 0.044715u³)
/// (½(1 + tanh s) = σ(2s)): one exponential per element, in one vectorised pass (eight passes of
/// TensorPrimitives over L1-sized chunks took twice as long).
/// </summary>
public static class Gelu
{
    /// <summary>A GELU backward: du = f(u, post, g), the exact derivative or a rule.</summary>
    public delegate void Backward(ReadOnlySpan<float> u, ReadOnlySpan<float> post, ReadOnlySpan<float> g, Span<float> du);

    private const float C = 0.7978845608028654f; // √(2/π)
    private const float A = 0.044715f;

    public static void Forward(ReadOnlySpan<float> u, Span<float> post)
    {
        switch (GemmPaths.Fastest)
        {
            case GemmPath.Vector512: Forward<Vector512<float>, Vector512Ops>(u, post); break;
            case GemmPath.Vector256: Forward<Vector256<float>, Vector256Ops>(u, post); break;
            default: Forward<float, ScalarOps>(u, post); break;
        }
    }

    /// <summary>The exact derivative: du = g·(σ + 2u·σ(1 − σ)·C(1 + 3A·u²)), σ = σ(2s) = ½(1 + tanh s).</summary>
    public static void Gradient(ReadOnlySpan<float> u, ReadOnlySpan<float> post, ReadOnlySpan<float> g, Span<float> du)
    {
        switch (GemmPaths.Fastest)
        {
            case GemmPath.Vector512: Gradient<Vector512<float>, Vector512Ops>(u, g, du); break;
            case GemmPath.Vector256: Gradient<Vector256<float>, Vector256Ops>(u, g, du); break;
            default: Gradient<float, ScalarOps>(u, g, du); break;
        }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    internal static unsafe void Forward<T, O>(ReadOnlySpan<float> u, Span<float> post) where T : struct where O : IKernelOps<T>
    {
        int n = u.Length, w = O.Width;
        T one = O.Splat(1), k3 = O.Splat(-2 * C * A), k1 = O.Splat(-2 * C);
        float* tail = stackalloc float[w];
        fixed (float* pu = u, pp = post)
            for (int i = 0; i < n; i += w)
            {
                T x = Load<T, O>(pu + i, n - i, tail);
                T e = O.Exp(O.Multiply(x, O.MulAdd(O.Multiply(x, x), k3, k1)));   // e^(−2s)
                Store<T, O>(pp + i, n - i, O.Divide(x, O.Add(one, e)), tail);
            }
    }

    [MethodImpl(MethodImplOptions.AggressiveOptimization), SkipLocalsInit]
    internal static unsafe void Gradient<T, O>(ReadOnlySpan<float> u, ReadOnlySpan<float> g, Span<float> du) where T : struct where O : IKernelOps<T>
    {
        int n = u.Length, w = O.Width;
        T one = O.Splat(1), minusOne = O.Splat(-1), k3 = O.Splat(-2 * C * A), k1 = O.Splat(-2 * C), d3 = O.Splat(6 * C * A), d1 = O.Splat(2 * C);
        float* tail = stackalloc float[w];
        fixed (float* pu = u, pg = g, pd = du)
            for (int i = 0; i < n; i += w)
            {
                T x = Load<T, O>(pu + i, n - i, tail), x2 = O.Multiply(x, x);
                T sigma = O.Divide(one, O.Add(one, O.Exp(O.Multiply(x, O.MulAdd(x2, k3, k1)))));
                // σ(1 − σ) rather than e^(−2s)·σ²: it stays 0 where the exponential overflows.
                T slope = O.Multiply(O.Multiply(sigma, O.MulAdd(sigma, minusOne, one)), O.Multiply(x, O.MulAdd(x2, d3, d1)));
                Store<T, O>(pd + i, n - i, O.Multiply(Load<T, O>(pg + i, n - i, tail), O.Add(sigma, slope)), tail);
            }
    }

    /// <summary>A whole vector, or the <paramref name="left"/> last elements through a zero-padded copy (the same lane arithmetic).</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe T Load<T, O>(float* p, int left, float* tail) where T : struct where O : IKernelOps<T>
    {
        if (left >= O.Width) return O.Load(p);
        new Span<float>(tail, O.Width).Clear();
        new Span<float>(p, left).CopyTo(new Span<float>(tail, left));
        return O.Load(tail);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static unsafe void Store<T, O>(float* p, int left, T v, float* tail) where T : struct where O : IKernelOps<T>
    {
        if (left >= O.Width) { O.Store(p, v); return; }
        O.Store(tail, v);
        new Span<float>(tail, left).CopyTo(new Span<float>(p, left));
    }
}
