using System.Numerics.Tensors;
using RelpSae.Numerics;

namespace RelpSae.Tests.Numerics;

public class TanhTests
{
    private static void AssertSameBits(float[] x)
    {
        var expected = new float[x.Length];
        TensorPrimitives.Tanh(x, expected);
        var actual = (float[])x.Clone();
        Tanh.Apply(actual);
        for (int i = 0; i < x.Length; i++)
            if (BitConverter.SingleToInt32Bits(actual[i]) != BitConverter.SingleToInt32Bits(expected[i]) && !(float.IsNaN(actual[i]) && float.IsNaN(expected[i])))
                Assert.Fail($"tanh({x[i]:R}) at {i} of {x.Length}: {actual[i]:R}, TensorPrimitives {expected[i]:R}");
    }

    [Fact]
    public void EqualsTensorPrimitivesBitForBitOnRandomBitPatternsAndTheUsualRange()
    {
        var rng = new Random(5);
        for (int rep = 0; rep < 40; rep++)
        {
            var x = new float[1 << 14];
            for (int i = 0; i < x.Length; i++)
                x[i] = rep % 2 == 0 ? BitConverter.Int32BitsToSingle(rng.Next() | (rng.Next(2) << 31)) : (float)(rng.NextDouble() * 40 - 20);
            AssertSameBits(x);
        }
    }

    [Fact]
    public void EqualsTensorPrimitivesOnSpecialValues()
    {
        float[] special = [0f, -0f, float.Epsilon, -float.Epsilon, 1e-30f, -1e-30f, 1e-7f, 0.5f, -0.5f, 8.9f, 9.1f, -9.1f, 44f, 89f, 1e30f,
            float.MaxValue, float.MinValue, float.PositiveInfinity, float.NegativeInfinity, float.NaN];
        AssertSameBits([.. special, .. special]);
    }

    [Fact]
    public void EveryLengthIsComputedOnceInPlace()
    {
        // Tails shorter than a vector and spans shorter than one: each value is tanh of itself, not of a value already replaced.
        var rng = new Random(6);
        for (int n = 1; n <= 70; n++)
            AssertSameBits([.. Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 6 - 3))]);
    }

    [Fact]
    public void EqualsTensorPrimitivesFromEveryStackDepth()
    {
        // The loop runs from a stack moved until its e^x slots lie on cache lines (VectorMap): called from four depths 16
        // bytes apart, each way in (on a line at once, or after a move) must compute every value.
        var rng = new Random(7);
        for (int bytes = 16; bytes <= 64; bytes += 16)
            for (int n = 16; n <= 50; n += 17)
            {
                float[] x = [.. Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 6 - 3))];
                StackDepth.Below(bytes, () => AssertSameBits(x));
            }
    }
}
