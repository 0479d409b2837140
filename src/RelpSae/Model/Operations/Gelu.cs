using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>GPT-2's gelu_new: ½u(1 + tanh(√(2/π)(u + 0.044715u³))).</summary>
public static class Gelu
{
    private const float C = 0.7978845608028654f; // √(2/π)
    private const float A = 0.044715f;

    /// <summary>Elements per chunk: a chunk's values stay in L1 from one pass to the next.</summary>
    private const int Chunk = 512;

    public static void Forward(ReadOnlySpan<float> u, Span<float> post)
    {
        // Whole vectors in one pass of 512-bit vectors (the same operations on each value as the chunks below); a last
        // chunk of under a vector goes through the chunks, whose tanh there is TensorPrimitives' narrower one.
        int tail = u.Length % Chunk, done = tail > 0 && tail < Vector512<float>.Count ? u.Length - tail : u.Length;
        if (done >= Vector512<float>.Count && Vector512.IsHardwareAccelerated) VectorMap.Apply<Fused>(u[..done], post);
        else done = 0;
        // post = ½u(1 + tanh(C(u + A·u³))), a chunk at a time.
        for (int i = done; i < u.Length; i += Chunk)
        {
            int n = Math.Min(Chunk, u.Length - i);
            var x = u.Slice(i, n);
            var y = post.Slice(i, n);
            InnerTanh(x, y);
            int q = 0;
            for (; q + Vector<float>.Count <= n; q += Vector<float>.Count)
                ((new Vector<float>(y[q..]) + Vector<float>.One) * new Vector<float>(x[q..]) * 0.5f).CopyTo(y[q..]);
            for (; q < n; q++) y[q] = (y[q] + 1f) * x[q] * 0.5f;
        }
    }

    /// <summary>The forward on one vector: <see cref="InnerTanh"/>'s operations, tanh, then the chunks' ½u(1 + t).</summary>
    private struct Fused : IVectorFunction
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Of(Vector512<float> u) =>
            (Tanh.Of((u * u * u * A + u) * C) + Vector512<float>.One) * u * 0.5f;
    }

    /// <summary>The exact derivative (an <see cref="Lrp.ElementwiseBackward"/>): du = g·(½(1 + t) + ½u(1 − t²)·C(1 + 3A·u²)), t = tanh(C(u + A·u³)).</summary>
    public static void Gradient(ReadOnlySpan<float> u, ReadOnlySpan<float> post, ReadOnlySpan<float> g, Span<float> du)
    {
        // g and du may be one buffer: the slope goes to a chunk on the stack, then du = slope·g. Whole vectors of the slope
        // in one 512-bit pass (as the forward); a chunk of under a vector through the chunked operations.
        Span<float> s = stackalloc float[Chunk];
        for (int i = 0; i < u.Length; i += Chunk)
        {
            int n = Math.Min(Chunk, u.Length - i);
            var x = u.Slice(i, n);
            Span<float> sn = s[..n];
            if (n >= Vector512<float>.Count && Vector512.IsHardwareAccelerated) VectorMap.Apply<Slope>(x, sn);
            else ChunkedSlope(x, sn);
            TensorPrimitives.Multiply(sn, g.Slice(i, n), du.Slice(i, n));
        }
    }

    /// <summary>The slope on one vector: <see cref="InnerTanh"/>'s operations, tanh, then <see cref="ChunkedSlope"/>'s.</summary>
    private struct Slope : IVectorFunction
    {
        [MethodImpl(MethodImplOptions.AggressiveInlining)]
        public static Vector512<float> Of(Vector512<float> u)
        {
            var t = Tanh.Of((u * u * u * A + u) * C);
            var w = (Vector512<float>.One - t * t) * ((u * u) * (3 * A) + Vector512<float>.One) * u * (0.5f * C);
            return (t + Vector512<float>.One) * 0.5f + w;
        }
    }

    /// <summary>½(1 + t) + w, w = ½u(1 − t²)·C(1 + 3A·u²), over a chunk.</summary>
    private static void ChunkedSlope(ReadOnlySpan<float> x, Span<float> s)
    {
        InnerTanh(x, s);
        int q = 0;
        for (; q + Vector<float>.Count <= x.Length; q += Vector<float>.Count)
        {
            Vector<float> v = new(x[q..]), th = new(s[q..]);
            var w = (Vector<float>.One - th * th) * ((v * v) * (3 * A) + Vector<float>.One) * v * (0.5f * C);
            ((th + Vector<float>.One) * 0.5f + w).CopyTo(s[q..]);
        }
        for (; q < x.Length; q++)
        {
            float w = (1f - s[q] * s[q]) * ((x[q] * x[q]) * (3 * A) + 1f) * x[q] * (0.5f * C);
            s[q] = (s[q] + 1f) * 0.5f + w;
        }
    }

    /// <summary>
    /// t = tanh(C(x + A·x³)) over one chunk. The arithmetic around tanh runs in one vector pass on each side of it, in the
    /// order and roundings of one TensorPrimitives call per operation (the same bits): as one call per operation
    /// (element by element, MathF.Tanh had made the exact backward of an 8×128 batch cost as much as libtorch's whole
    /// forward and backward), the forward took 1.2× as long and the gradient 1.5× (512 × 3072 values, one thread).
    /// </summary>
    private static void InnerTanh(ReadOnlySpan<float> x, Span<float> t)
    {
        int q = 0;
        for (; q + Vector<float>.Count <= x.Length; q += Vector<float>.Count)
        {
            var v = new Vector<float>(x[q..]);
            (((v * v * v) * A + v) * C).CopyTo(t[q..]);
        }
        for (; q < x.Length; q++) t[q] = ((x[q] * x[q] * x[q]) * A + x[q]) * C;
        Numerics.Tanh.Apply(t);
    }
}
