using System.Numerics;
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
        // post = ½u(1 + tanh z) = u·σ(2z) = u / (1 + e^−2z), z = C(u + A·u³), a chunk at a time.
        for (int i = 0; i < u.Length; i += Chunk)
        {
            int n = Math.Min(Chunk, u.Length - i);
            var x = u.Slice(i, n);
            var y = post.Slice(i, n);
            ExpMinusTwoZ(x, y);
            int q = 0;
            for (; q + Vector<float>.Count <= n; q += Vector<float>.Count)
                (new Vector<float>(x[q..]) / (new Vector<float>(y[q..]) + Vector<float>.One)).CopyTo(y[q..]);
            for (; q < n; q++) y[q] = x[q] / (y[q] + 1f);
        }
    }

    /// <summary>
    /// The exact derivative (an <see cref="Lrp.ElementwiseBackward"/>): du = g·(½(1 + t) + ½u(1 − t²)·C(1 + 3A·u²)),
    /// t = tanh z, computed as du = g·(s + 2u·s(1 − s)·C(1 + 3A·u²)) with s = ½(1 + t) = σ(2z).
    /// </summary>
    public static void Gradient(ReadOnlySpan<float> u, ReadOnlySpan<float> post, ReadOnlySpan<float> g, Span<float> du)
    {
        Span<float> e = stackalloc float[Chunk];
        for (int i = 0; i < u.Length; i += Chunk)
        {
            int n = Math.Min(Chunk, u.Length - i);
            var x = u.Slice(i, n);
            var gi = g.Slice(i, n);
            var di = du.Slice(i, n);
            Span<float> en = e[..n];
            ExpMinusTwoZ(x, en);
            int q = 0;
            for (; q + Vector<float>.Count <= n; q += Vector<float>.Count)
            {
                Vector<float> v = new(x[q..]), sg = Vector<float>.One / (new Vector<float>(en[q..]) + Vector<float>.One);
                var w = sg * (Vector<float>.One - sg) * ((v * v) * (3 * A) + Vector<float>.One) * v * (2 * C);
                ((sg + w) * new Vector<float>(gi[q..])).CopyTo(di[q..]);
            }
            for (; q < n; q++)
            {
                float sg = 1f / (en[q] + 1f), w = sg * (1f - sg) * ((x[q] * x[q]) * (3 * A) + 1f) * x[q] * (2 * C);
                di[q] = (sg + w) * gi[q];
            }
        }
    }

    /// <summary>
    /// e^−2z, z = C(x + A·x³), over one chunk: the arithmetic in one vector pass, then <see cref="FastExp"/> over the chunk
    /// while it is in L1 (2.5× faster than TensorPrimitives' tanh there). As one call per operation, element by element,
    /// MathF.Tanh had made the exact backward of an 8×128 batch cost as much as libtorch's whole forward and backward.
    /// </summary>
    private static void ExpMinusTwoZ(ReadOnlySpan<float> x, Span<float> e)
    {
        int q = 0;
        for (; q + Vector<float>.Count <= x.Length; q += Vector<float>.Count)
        {
            var v = new Vector<float>(x[q..]);
            (((v * v * v) * A + v) * (-2 * C)).CopyTo(e[q..]);
        }
        for (; q < x.Length; q++) e[q] = ((x[q] * x[q] * x[q]) * A + x[q]) * (-2 * C);
        FastExp.Exp(e, e);
    }
}
