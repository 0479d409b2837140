using System.Runtime.Intrinsics;
using RelpSae.Numerics;

namespace RelpSae.Tests.Numerics;

public class ExpTests
{
    private static IEnumerable<(float X, float E)> Grid(double from, double to)
    {
        const double step = 1.0 / 2048;
        var x = new float[16];
        for (double x0 = from; x0 < to; x0 += 16 * step)
        {
            for (int i = 0; i < 16; i++) x[i] = (float)(x0 + i * step);
            var e = Exp.Of(Vector512.Create(x));
            for (int i = 0; i < 16; i++) yield return (x[i], e[i]);
        }
    }

    [Fact]
    public void IsWithinAnUlpOfFloat64OverTheNormalRange()
    {
        foreach (var (x, e) in Grid(-87.3, 88.7))
        {
            double exact = Math.Exp(x), ulp = MathF.BitIncrement((float)exact) - (float)exact;
            Assert.True(Math.Abs(e - exact) <= ulp, $"e^{x:R} = {e:R}, float64 {exact:R}");
        }
    }

    [Fact]
    public void RoundsSubnormalResultsToTheLeastSubnormal()
    {
        foreach (var (x, e) in Grid(-104, -87.3))
            Assert.True(Math.Abs(e - Math.Exp(x)) <= float.Epsilon, $"e^{x:R} = {e:R}, float64 {Math.Exp(x):R}");
    }

    [Fact]
    public void OverflowsUnderflowsAndKeepsNaN()
    {
        float[] x = [float.NaN, float.PositiveInfinity, 88.73f, 1e30f, float.MaxValue, float.NegativeInfinity, -104.5f, -1e30f,
            float.MinValue, 0f, -0f, 1e-30f, -1e-30f, float.Epsilon, 1f, -1f];
        float[] expected = [float.NaN, float.PositiveInfinity, float.PositiveInfinity, float.PositiveInfinity, float.PositiveInfinity,
            0, 0, 0, 0, 1, 1, 1, 1, 1, MathF.E, 1 / MathF.E];
        var e = Exp.Of(Vector512.Create(x));
        for (int i = 0; i < 16; i++) Assert.True(e[i].Equals(expected[i]), $"e^{x[i]:R} = {e[i]:R}, expected {expected[i]:R}");
    }
}
