using System.Runtime.Intrinsics;
using RelpSae.Model;
using RelpSae.Numerics;

namespace RelpSae.Tests.Model;

/// <summary>gelu_new's one-pass kernel on every vector width: the tanh formula in float64, its derivative, and its tails.</summary>
public class GeluTests
{
    private static double F(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));

    private static double Derivative(double x)
    {
        double c = Math.Sqrt(2 / Math.PI), t = Math.Tanh(c * (x + 0.044715 * x * x * x));
        return 0.5 * (1 + t) + 0.5 * x * (1 - t * t) * c * (1 + 3 * 0.044715 * x * x);
    }

    private delegate void Kernel(ReadOnlySpan<float> u, Span<float> post);
    private delegate void GradientKernel(ReadOnlySpan<float> u, ReadOnlySpan<float> g, Span<float> du);

    public static TheoryData<string> Paths => ["512", "256", "scalar"];

    private static (Kernel, GradientKernel) Kernels(string path) => path switch
    {
        "512" => (Gelu.Forward<Vector512<float>, Vector512Ops>, Gelu.Gradient<Vector512<float>, Vector512Ops>),
        "256" => (Gelu.Forward<Vector256<float>, Vector256Ops>, Gelu.Gradient<Vector256<float>, Vector256Ops>),
        _ => (Gelu.Forward<float, ScalarOps>, Gelu.Gradient<float, ScalarOps>),
    };

    [Theory]
    [MemberData(nameof(Paths))]
    public void EveryWidthMatchesTheTanhFormulaAndItsDerivative(string path)
    {
        var (forward, gradient) = Kernels(path);
        var rng = new Random(5);
        // 1000 is no multiple of 16 or 8: a ragged tail; the extremes overflow the exponential both ways.
        var u = Enumerable.Range(0, 1000).Select(_ => (float)(rng.NextDouble() * 12 - 6)).Concat([0f, -30f, 30f, -100f, 100f, 1e-30f]).ToArray();
        var g = u.Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var post = new float[u.Length];
        var du = new float[u.Length];
        forward(u, post);
        gradient(u, g, du);
        for (int i = 0; i < u.Length; i++)
        {
            Assert.Equal(F(u[i]), post[i], 2e-6 * Math.Max(1, Math.Abs(u[i])));
            Assert.Equal(g[i] * Derivative(u[i]), du[i], 2e-6);
        }
    }

    [Fact]
    public void TheTailIsComputedLikeAWholeVector()
    {
        // The last elements run through a padded copy with the same lane arithmetic: cutting a span
        // anywhere gives the bits of the uncut pass (row bands and prefix reuse rely on it).
        var rng = new Random(6);
        var u = Enumerable.Range(0, 333).Select(_ => (float)(rng.NextDouble() * 8 - 4)).ToArray();
        var whole = new float[u.Length];
        Gelu.Forward(u, whole);
        var cut = new float[u.Length];
        Gelu.Forward(u.AsSpan(0, 100), cut.AsSpan(0, 100));
        Gelu.Forward(u.AsSpan(100), cut.AsSpan(100));
        Assert.Equal(whole, cut);
    }
}
