using RelpSae.Model;

namespace RelpSae.Tests.Model;

public class GeluTests
{
    private const double C = 0.7978845608028654, A = 0.044715, Epsilon = 1.0 / (1 << 23);

    /// <summary>u from −12 to 12 in steps of 2⁻⁸, and values far out where e^(−2y) is 0 or past float's range.</summary>
    private static float[] Inputs() =>
        [.. Enumerable.Range(-12 * 256, 24 * 256 + 1).Select(i => i / 256f), 30f, -30f, 100f, -100f, 1e4f, -1e4f, 1e19f, -1e19f, 1e-20f, -1e-20f];

    /// <summary>gelu_new at a float u in float64: y, s = σ(2y) = 1 / (1 + e^(−2y)) (the tanh form cancels in float64 too), u·s and its derivative.</summary>
    private static (double Y, double Value, double S, double W) Exact(float u)
    {
        double x = u, y = C * (x + A * x * x * x), e = Math.Exp(-2 * y), s = 1 / (1 + e), w = 2 * C * x * (1 + 3 * A * x * x) * s * (e * s);
        return (y, x * s, s, double.IsFinite(w) ? w : 0);
    }

    [Fact]
    public void ForwardIsGeluNewToRounding()
    {
        // y carries a few ulps, which e^(−2y) turns into 2|y| times as many relative to the value; below 1e-38 the value is
        // subnormal and only absolutely near.
        var u = Inputs();
        var post = new float[u.Length];
        Gelu.Forward(u, post);
        for (int i = 0; i < u.Length; i++)
        {
            var (y, value, _, _) = Exact(u[i]);
            Assert.True(Math.Abs(post[i] - value) <= 4 * Epsilon * (1 + 2 * Math.Abs(y)) * Math.Abs(value) + 1e-38,
                $"gelu({u[i]:R}) = {post[i]:R}, float64 {value:R}");
        }
    }

    [Fact]
    public void GradientIsTheDerivativeToRounding()
    {
        // Relative to the size of the derivative's two terms, s and w: it crosses zero near u = −0.75.
        var u = Inputs();
        var g = u.Select((_, i) => i % 2 == 0 ? 1f : -0.5f).ToArray();
        var du = new float[u.Length];
        Gelu.Gradient(u, new float[u.Length], g, du);
        for (int i = 0; i < u.Length; i++)
        {
            var (y, _, s, w) = Exact(u[i]);
            double exact = (s + w) * g[i];
            Assert.True(Math.Abs(du[i] - exact) <= 8 * Epsilon * (1 + 2 * Math.Abs(y)) * (Math.Abs(s) + Math.Abs(w)) * Math.Abs(g[i]) + 1e-38,
                $"gelu'({u[i]:R})·{g[i]:R} = {du[i]:R}, float64 {exact:R}");
        }
    }

    [Fact]
    public void GradientMatchesFiniteDifferencesOfTheForward()
    {
        float[] u = [-6f, -3f, -1.5f, -0.75f, -0.2f, 0f, 0.3f, 1f, 2.5f, 5f];
        const float h = 1f / 64;
        var plus = new float[u.Length];
        var minus = new float[u.Length];
        var du = new float[u.Length];
        Gelu.Forward(u.Select(x => x + h).ToArray(), plus);
        Gelu.Forward(u.Select(x => x - h).ToArray(), minus);
        Gelu.Gradient(u, new float[u.Length], Enumerable.Repeat(1f, u.Length).ToArray(), du);
        for (int i = 0; i < u.Length; i++)
            Assert.True(Math.Abs(du[i] - (plus[i] - minus[i]) / (2 * h)) < 2e-4, $"u {u[i]}: gradient {du[i]}, central difference {(plus[i] - minus[i]) / (2 * h)}");
    }

    [Fact]
    public void EveryValueIsItsOwnAtEveryLengthAndInPlace()
    {
        // Short spans go through one padded vector, longer ones end on a vector overlapping the one before: a value's bits
        // do not depend on the span it is in, nor on whether the gradient is written over g.
        var rng = new Random(3);
        var u = Enumerable.Range(0, 16 * 3072 + 2).Select(_ => (float)(rng.NextDouble() * 12 - 6)).ToArray();
        var g = u.Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var post = new float[u.Length];
        var du = new float[u.Length];
        Gelu.Forward(u, post);
        Gelu.Gradient(u, post, g, du);
        foreach (int n in Enumerable.Range(1, 40).Concat([511, 512, 513, 515, 527, 1000, 1024 + 3, 3 * 3072]))
        {
            int from = rng.Next(u.Length - n);
            var part = new float[n];
            Gelu.Forward(u.AsSpan(from, n), part);
            var inPlace = g.AsSpan(from, n).ToArray();
            Gelu.Gradient(u.AsSpan(from, n), part, inPlace, inPlace);
            for (int i = 0; i < n; i++)
            {
                Assert.True(BitConverter.SingleToInt32Bits(part[i]) == BitConverter.SingleToInt32Bits(post[from + i]), $"gelu at {i} of {n}");
                Assert.True(BitConverter.SingleToInt32Bits(inPlace[i]) == BitConverter.SingleToInt32Bits(du[from + i]), $"gelu' in place at {i} of {n}");
            }
        }
    }
}
