using RelpSae.Model;
using RelpSae.Numerics;

namespace RelpSae.Tests.Numerics;

public class SoftmaxTests
{
    /// <summary>softmax in double, shifted by the maximum.</summary>
    private static double[] Reference(float[] x)
    {
        double max = x.Max();
        var e = x.Select(v => Math.Exp(v - max)).ToArray();
        double sum = e.Sum();
        return e.Select(v => v / sum).ToArray();
    }

    private static float[] Row(int n, float offset, float spread, int seed)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => offset + spread * (rng.NextSingle() - 0.5f)).ToArray();
    }

    [Theory]
    [InlineData(1, 0f, 10f)]
    [InlineData(7, 0f, 10f)]
    [InlineData(15, -3f, 4f)]
    [InlineData(512, 30f, 40f)]
    [InlineData(300, -60f, 8f)]
    [InlineData(100, 75f, 10f)]
    public void OrdinaryRowsAreSoftmaxInDoubleToRounding(int n, float offset, float spread)
    {
        var x = Row(n, offset, spread, n);
        var expected = Reference(x);
        var p = new float[n];
        Softmax.Apply(x, p);
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(p[i] - expected[i]) <= 4e-7 * expected[i] + 1e-30, $"{i}: {p[i]} vs {expected[i]}");
    }

    [Fact]
    public void EveryLengthGivesTheSameBitsInPlaceOrNot()
    {
        foreach (int n in Enumerable.Range(1, 70).Concat([127, 128, 129, 512, 1000]))
        {
            var x = Row(n, n % 3 == 0 ? 0f : 120f, 20f, n);
            var outOfPlace = new float[n];
            var inPlace = (float[])x.Clone();
            Softmax.Apply(x, outOfPlace);
            Softmax.Apply(inPlace, inPlace);
            Assert.Equal(outOfPlace, inPlace);
            Assert.Equal(1.0, outOfPlace.Sum(v => (double)v), 5);
        }
    }

    [Theory]
    [InlineData(2, 100f, 1f)]         // e^100 overflows float
    [InlineData(512, 300f, 40f)]      // attention scores far above 88.7
    [InlineData(50257, -200f, 30f)]   // logits all below −103: every e^x underflows
    [InlineData(256000, 70f, 20f)]    // a Gemma-sized vocabulary whose unshifted sum would overflow
    public void ExtremeRowsMatchTheShiftedFormInDouble(int n, float offset, float spread)
    {
        var x = Row(n, offset, spread, n);
        var expected = Reference(x);
        var p = (float[])x.Clone();
        Softmax.Apply(p, p);   // in place, as attention applies it
        Assert.All(p, v => Assert.True(float.IsFinite(v) && v >= 0, $"{v}"));
        // A float sum over up to 256 000 terms: about 10⁻⁵ of relative rounding, as PyTorch's float softmax has.
        Assert.Equal(1.0, p.Sum(v => (double)v), 4);
        for (int i = 0; i < n; i++) Assert.True(Math.Abs(p[i] - expected[i]) <= 5e-5 * expected[i] + 1e-12, $"{i}: {p[i]} vs {expected[i]}");
    }

    [Fact]
    public void AttentionWithHugeScoresGivesAPattern()
    {
        // q·kᵀ/√d_head in the hundreds: the unshifted softmax gave every row NaN.
        int T = 20, d = 64, dh = 64;
        var rng = new Random(3);
        var qkv = Enumerable.Range(0, T * 3 * d).Select(_ => 6f * (rng.NextSingle() - 0.5f) + 4f).ToArray();
        var pattern = new float[T * T];
        var z = new float[T * d];
        Attention.Forward(qkv, pattern, z, T, head: 0, width: d, headDim: dh);
        for (int i = 0; i < T; i++)
        {
            var row = pattern.AsSpan(i * T, i + 1).ToArray();
            var scores = Enumerable.Range(0, i + 1).Select(j =>
                Enumerable.Range(0, dh).Sum(c => qkv[i * 3 * d + c] * qkv[j * 3 * d + d + c]) / MathF.Sqrt(dh)).ToArray();
            Assert.True(scores.Max() > 100, $"row {i}: the largest score is {scores.Max()}");
            var expected = Reference(scores);
            for (int j = 0; j <= i; j++) Assert.True(Math.Abs(row[j] - expected[j]) <= 1e-4, $"row {i}, key {j}: {row[j]} vs {expected[j]}");
        }
        Assert.All(z, v => Assert.True(float.IsFinite(v)));
    }
}
