using System.Numerics.Tensors;
using RelpSae.Model;

namespace RelpSae.Tests.Model;

public class GeluTests
{
    /// <summary>
    /// tanh(C(u + A·u³)) as the chunks compute it: the inner value a value at a time, then TensorPrimitives' tanh over each
    /// chunk of 512 (narrower vectors, or none, for a chunk shorter than a 512-bit vector).
    /// </summary>
    private static float[] ChunkedTanh(float[] u)
    {
        var t = new float[u.Length];
        for (int i = 0; i < u.Length; i += 512)
        {
            int n = Math.Min(512, u.Length - i);
            for (int q = i; q < i + n; q++) t[q] = (u[q] * u[q] * u[q] * 0.044715f + u[q]) * 0.7978845608028654f;
            TensorPrimitives.Tanh(t.AsSpan(i, n), t.AsSpan(i, n));
        }
        return t;
    }

    /// <summary>gelu_new as the chunks compute it: ½u(1 + t), t from <see cref="ChunkedTanh"/>.</summary>
    private static float[] Chunked(float[] u)
    {
        var t = ChunkedTanh(u);
        return [.. u.Select((x, q) => (t[q] + 1f) * x * 0.5f)];
    }

    [Fact]
    public void ForwardHasTheChunkedBitsAtEveryLength()
    {
        // One pass over whole vectors, chunks only for a last one shorter than a vector: the same values either way.
        var rng = new Random(3);
        foreach (int n in Enumerable.Range(1, 40).Concat([511, 512, 513, 515, 527, 1000, 1024 + 3, 3 * 3072, 16 * 3072 + 2]))
        {
            var u = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 12 - 6)).ToArray();
            var post = new float[n];
            Gelu.Forward(u, post);
            var expected = Chunked(u);
            for (int i = 0; i < n; i++)
                Assert.True(BitConverter.SingleToInt32Bits(post[i]) == BitConverter.SingleToInt32Bits(expected[i]),
                    $"gelu({u[i]:R}) at {i} of {n}: {post[i]:R}, chunked {expected[i]:R}");
        }
    }

    /// <summary>The exact gradient as the chunks computed it: g·(½(1 + t) + w) a value at a time, t from <see cref="ChunkedTanh"/>.</summary>
    private static float[] ChunkedGradient(float[] u, float[] g)
    {
        var t = ChunkedTanh(u);
        return [.. u.Select((x, q) => ((t[q] + 1f) * 0.5f + (1f - t[q] * t[q]) * ((x * x) * (3 * 0.044715f) + 1f) * x * (0.5f * 0.7978845608028654f)) * g[q])];
    }

    [Fact]
    public void GradientHasTheChunkedBitsAtEveryLengthInPlaceToo()
    {
        var rng = new Random(4);
        foreach (int n in Enumerable.Range(1, 40).Concat([511, 512, 513, 515, 527, 1000, 1024 + 3, 3 * 3072, 16 * 3072 + 2]))
        {
            var u = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 12 - 6)).ToArray();
            var g = Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
            var expected = ChunkedGradient(u, g);
            var du = new float[n];
            Gelu.Gradient(u, new float[n], g, du);
            var inPlace = (float[])g.Clone();
            Gelu.Gradient(u, new float[n], inPlace, inPlace);
            for (int i = 0; i < n; i++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(du[i]) == BitConverter.SingleToInt32Bits(expected[i]),
                    $"gelu'({u[i]:R})·{g[i]:R} at {i} of {n}: {du[i]:R}, chunked {expected[i]:R}");
                Assert.True(BitConverter.SingleToInt32Bits(inPlace[i]) == BitConverter.SingleToInt32Bits(expected[i]), $"in place at {i} of {n}");
            }
        }
    }
}
