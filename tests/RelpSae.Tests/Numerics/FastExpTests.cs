using RelpSae.Numerics;

namespace RelpSae.Tests.Numerics;

/// <summary>e^x (<see cref="FastExp"/>) against double precision.</summary>
public class FastExpTests
{
    [Fact]
    public void ExpIsWithinAnUlpOfTheExactValueWhereverFloatHoldsIt()
    {
        // Every 97th float from e^x's smallest normal result to its largest, both signs of the reduced argument.
        var xs = new List<float>();
        for (float x = -87.3f; x < 88.7f; x += 0.0173f) xs.Add(x);
        xs.AddRange([0f, -0f, 1f, -1f, 1e-8f, -1e-8f, 88.72f, -87.33f]);
        var y = new float[xs.Count];
        FastExp.Exp(xs.ToArray(), y);
        double worst = 0;
        for (int i = 0; i < xs.Count; i++)
        {
            double exact = Math.Exp(xs[i]);
            float nearest = (float)exact;
            double ulp = MathF.BitIncrement(nearest) - nearest;
            worst = Math.Max(worst, Math.Abs(y[i] - exact) / ulp);
        }
        Assert.True(worst <= 1, $"{worst:F2} ulps");
    }

    [Fact]
    public void ExpOfMinusInfinityIsZeroAndLargeArgumentsStayFinite()
    {
        var x = new[] { float.NegativeInfinity, -200f, -104f, 89f, 1000f };
        var y = new float[x.Length];
        FastExp.Exp(x, y);
        Assert.Equal(0f, y[0]);
        Assert.Equal(0f, y[1]);
        Assert.Equal(0f, y[2]);
        Assert.True(float.IsFinite(y[3]) && y[3] > 3e38f);
        Assert.True(float.IsFinite(y[4]));
    }
}
