using RelpSae.Numerics;

namespace RelpSae.Tests.Numerics;

public class TanhTests
{
    private static float[] Tanh(float[] x)
    {
        var y = (float[])x.Clone();
        RelpSae.Numerics.Tanh.Apply(y);
        return y;
    }

    [Fact]
    public void IsWithinTwoUlpsOfOneOfFloat64OnRandomBitPatternsAndTheUsualRange()
    {
        var rng = new Random(5);
        for (int rep = 0; rep < 40; rep++)
        {
            var x = new float[1 << 14];
            for (int i = 0; i < x.Length; i++)
                x[i] = rep % 2 == 0 ? BitConverter.Int32BitsToSingle(rng.Next() | (rng.Next(2) << 31)) : (float)(rng.NextDouble() * 40 - 20);
            var y = Tanh(x);
            for (int i = 0; i < x.Length; i++)
                if (float.IsNaN(x[i])) Assert.True(float.IsNaN(y[i]), $"tanh(NaN) = {y[i]}");
                else Assert.True(Math.Abs(y[i] - Math.Tanh(x[i])) <= 1.0 / (1 << 22), $"tanh({x[i]:R}) = {y[i]:R}, float64 {Math.Tanh(x[i]):R}");
        }
    }

    [Fact]
    public void IsOddAndExactAtTheEnds()
    {
        float[] x = [0f, float.Epsilon, 1e-30f, 1e-7f, 0.5f, 8.9f, 9.1f, 44f, 89f, 1e30f, float.MaxValue, float.PositiveInfinity];
        var y = Tanh([.. x, .. x.Select(v => -v)]);
        for (int i = 0; i < x.Length; i++)
            Assert.Equal(BitConverter.SingleToInt32Bits(y[i]) ^ int.MinValue, BitConverter.SingleToInt32Bits(y[x.Length + i]));
        Assert.All(y[6..x.Length], v => Assert.Equal(1f, v));
        Assert.True(float.IsNaN(Tanh([float.NaN])[0]));
    }

    [Fact]
    public void EveryValueIsItsOwnAtEveryLength()
    {
        // Spans shorter than a vector (one padded vector) and tails (a vector overlapping the one before, computed before
        // anything is stored): in place, each value is tanh of itself, as it is in a long span.
        var rng = new Random(6);
        float[] x = [.. Enumerable.Range(0, 200).Select(_ => (float)(rng.NextDouble() * 6 - 3))];
        var whole = Tanh(x);
        for (int n = 1; n <= 70; n++)
        {
            var part = Tanh(x[..n]);
            for (int i = 0; i < n; i++) Assert.Equal(BitConverter.SingleToInt32Bits(whole[i]), BitConverter.SingleToInt32Bits(part[i]));
        }
    }
}
