using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Tests.Lrp;

/// <summary>
/// The Llama-family and GPT-NeoX operations and their rules, one operation at a time: RMSNorm and its
/// rule, SiLU and exact GELU with the Identity-rule, the Half-rule on the gate·up product, RoPE and
/// grouped-query sharing — each against its closed form, finite differences or its conservation law.
/// </summary>
public class FamilyRuleTests
{
    private static float[] Random(int n, int seed, float scale = 1, float offset = 0)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => offset + scale * (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    private static double Dot(float[] a, float[] b) => Enumerable.Range(0, a.Length).Sum(i => (double)a[i] * b[i]);

    private static (float[] Y, float[] Xhat, float Rstd) RmsRow(float[] x, float[] gamma)
    {
        var y = new float[x.Length]; var xhat = new float[x.Length]; var rstd = new float[1];
        RmsNorm.Forward(x, xhat, rstd, y, gamma, 1, 1e-5f);
        return (y, xhat, rstd[0]);
    }

    [Fact]
    public void RmsNormRuleFreezesTheRmsAndConservesRelevance()
    {
        const int d = 12;
        float[] x = Random(d, 1, 2, 0.5f), gamma = Random(d, 2, 0.5f, 1), g = Random(d, 3);
        var (y, xhat, rstd) = RmsRow(x, gamma);
        double rms = Math.Sqrt(x.Average(v => (double)v * v) + 1e-5);
        for (int i = 0; i < d; i++) Assert.Equal(gamma[i] * x[i] / rms, y[i], 1e-5);
        var dx = new float[d];
        RmsNormRule.Backward(g, xhat, rstd, gamma, dx, new float[d]);
        for (int i = 0; i < d; i++) Assert.Equal(gamma[i] * g[i] / rms, dx[i], 1e-5);
        Assert.Equal(Dot(y, g), Dot(x, dx), 1e-4);
    }

    [Fact]
    public void ExactRmsNormGradientMatchesFiniteDifferencesAndIgnoresRescaling()
    {
        const int d = 10;
        float[] x = Random(d, 4, 2, 0.3f), gamma = Random(d, 5, 0.5f, 1), g = Random(d, 6);
        var (_, xhat, rstd) = RmsRow(x, gamma);
        var dx = new float[d];
        RmsNorm.Gradient(g, xhat, rstd, gamma, dx, new float[d]);
        double L(double[] v)
        {
            double r = 1 / Math.Sqrt(v.Average(a => a * a) + 1e-5);
            return Enumerable.Range(0, d).Sum(i => v[i] * r * gamma[i] * g[i]);
        }
        for (int i = 0; i < d; i++)
        {
            var p = x.Select(v => (double)v).ToArray(); p[i] += 1e-6;
            var m = x.Select(v => (double)v).ToArray(); m[i] -= 1e-6;
            Assert.Equal((L(p) - L(m)) / 2e-6, dx[i], 1e-4);
        }
        // Without eps RMSNorm is scale-invariant, so the exact gradient is (nearly) orthogonal to x.
        Assert.Equal(0, Dot(x, dx), 1e-3);
    }

    [Theory]
    [InlineData("silu")]
    [InlineData("gelu")]
    public void ActivationGradientsMatchFiniteDifferences(string name)
    {
        Action<ReadOnlySpan<float>, Span<float>> forward = name == "silu" ? Silu.Forward : GeluErf.Forward;
        ElementwiseBackward gradient = name == "silu" ? Silu.Gradient : GeluErf.Gradient;
        var u = Random(64, 7, 4);
        var post = new float[u.Length];
        forward(u, post);
        var g = Random(u.Length, 8);
        var du = new float[u.Length];
        gradient(u, post, g, du);
        const float h = 1e-2f;
        for (int i = 0; i < u.Length; i++)
        {
            var pm = new float[2];
            forward([u[i] + h, u[i] - h], pm);
            Assert.Equal(g[i] * (pm[0] - pm[1]) / (2 * h), du[i], 2e-3);
        }
    }

    [Fact]
    public void ExactGeluIsTheErfForm()
    {
        // gelu(u) = u·Φ(u); Φ(1) = 0.8413447460685429, Φ(−2) = 0.022750131948179195, erf(0.3) = 0.32862675945912745.
        var post = new float[3];
        GeluErf.Forward([1f, -2f, 0f], post);
        Assert.Equal(0.8413447460685429, post[0], 1e-7);
        Assert.Equal(-2 * 0.022750131948179195, post[1], 1e-7);
        Assert.Equal(0, post[2]);
        Assert.Equal(0.32862675945912745, GeluErf.Erf(0.3), 1e-15);
        Assert.Equal(-0.9999779095030014, GeluErf.Erf(-3), 1e-15);
    }

    [Fact]
    public void IdentityRuleOnSiluConservesRelevance()
    {
        var u = Random(40, 9, 3);
        var post = new float[u.Length];
        Silu.Forward(u, post);
        var g = Random(u.Length, 10);
        var du = new float[u.Length];
        IdentityRule.Backward(u, post, g, du);
        for (int i = 0; i < u.Length; i++) Assert.Equal(g[i] / (1 + Math.Exp(-u[i])), du[i], 1e-4);   // g·silu(u)/u = g·σ(u)
        Assert.Equal(Dot(post, g), Dot(u, du), 1e-4);
    }

    [Fact]
    public void HalfRuleGivesEachGateFactorHalfAndConservesTheProduct()
    {
        float[] a = Random(30, 11, 2), b = Random(30, 12, 2), dh = Random(30, 13);
        var h = new float[30];
        GatedProduct.Forward(a, b, h);
        float[] da = new float[30], db = new float[30], exactA = new float[30], exactB = new float[30];
        HalfRule.Backward(a, b, dh, da, db);
        GatedProduct.Gradient(a, b, dh, exactA, exactB);
        for (int i = 0; i < 30; i++)
        {
            Assert.Equal(dh[i] * b[i], exactA[i], 1e-6);
            Assert.Equal(dh[i] * a[i], exactB[i], 1e-6);
            Assert.Equal(0.5f * exactA[i], da[i], 1e-6);
            Assert.Equal(0.5f * exactB[i], db[i], 1e-6);
        }
        // Relevance: a·da + b·db = h·dh, half through each factor (the exact rule counts it twice).
        Assert.Equal(Dot(h, dh), Dot(a, da) + Dot(b, db), 1e-4);
        Assert.Equal(Dot(a, da), Dot(b, db), 1e-4);
        Assert.Equal(2 * Dot(h, dh), Dot(a, exactA) + Dot(b, exactB), 1e-4);
    }

    [Fact]
    public void RopeIsARotationWhoseInverseIsItsTranspose()
    {
        const int T = 5, heads = 2, dh = 8, rows = 2 * T;
        var rope = new Rope(dims: 4, theta: 10000);
        var x = Random(rows * heads * dh, 14);
        var y = Random(rows * heads * dh, 15);
        var rx = (float[])x.Clone();
        rope.Apply(rx, heads * dh, rows, T, heads, dh);
        var ty = (float[])y.Clone();
        rope.Apply(ty, heads * dh, rows, T, heads, dh, inverse: true);
        Assert.Equal(Dot(rx, y), Dot(x, ty), 1e-4);                  // <Rx, y> = <x, Rᵀy>
        Assert.Equal(Dot(x, x), Dot(rx, rx), 1e-3);                  // a rotation keeps norms
        for (int i = 0; i < heads * dh; i++) Assert.Equal(x[i], rx[i]); // position 0 is not rotated
        for (int r = 1; r < rows; r++)
            for (int h = 0; h < heads; h++)
                for (int i = 4; i < dh; i++) Assert.Equal(x[(r * heads + h) * dh + i], rx[(r * heads + h) * dh + i]); // partial rotary: the rest passes
        // Position 1, pair 0: angle 1 radian (θ^0 = 1).
        int at = 1 * heads * dh;
        Assert.Equal(x[at] * Math.Cos(1) - x[at + 2] * Math.Sin(1), rx[at], 1e-5);
    }

    [Fact]
    public void GroupedQueryReduceIsTheTransposeOfRepeat()
    {
        const int rows = 3, heads = 4, kv = 2, dh = 3;
        float[] k = Random(rows * kv * dh, 16), v = Random(rows * kv * dh, 17), y = Random(rows * 3 * heads * dh, 18);
        var qkv = new float[rows * 3 * heads * dh];
        GroupedQuery.Repeat(k, v, qkv, rows, heads, kv, dh);
        float[] dk = new float[k.Length], dv = new float[v.Length];
        GroupedQuery.Reduce(y, dk, dv, rows, heads, kv, dh);
        // qkv has zero Q columns, so <Repeat(k, v), y> = <k, dK> + <v, dV>.
        Assert.Equal(Dot(qkv, y), Dot(k, dk) + Dot(v, dv), 1e-4);
        Assert.Equal(k[dh], qkv[heads * dh + 2 * dh]);   // query head 2 reads key head 1
    }

    [Fact]
    public void HalfMeansTheGatedProductAndHalfAttnTheAttentionSplit()
    {
        var half = PropagationRules.Parse("half");
        Assert.Equal(AttentionShares.Gradient, half.Attention);
        Assert.Equal(["half"], half.InForce);
        var halfAttn = PropagationRules.Parse("half-attn");
        Assert.Equal(AttentionShares.HalfRule, halfAttn.Attention);
        Assert.False(halfAttn.Half);
        Assert.Equal(["ln", "identity", "half"], PropagationRules.RelP.InForce);
    }
}
