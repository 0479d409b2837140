using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Tests.Lrp;

/// <summary>Each propagation rule against its closed form and its conservation law, on a single operation.</summary>
public class RuleTests
{
    private static float[] Random(int n, int seed, float scale = 1, float offset = 0)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => offset + scale * (float)(rng.NextDouble() * 2 - 1)).ToArray();
    }

    private static (float[] Y, float[] Xhat, float Rstd) LayerNormRow(float[] x, float[] gamma, float[] beta)
    {
        var y = new float[x.Length]; var xhat = new float[x.Length]; var rstd = new float[1];
        LayerNorm.Forward(x, xhat, rstd, y, gamma, beta, 1, 1e-5f);
        return (y, xhat, rstd[0]);
    }

    [Fact]
    public void LayerNormRuleFreezesSigmaKeepsCentringAndConservesRelevance()
    {
        const int d = 12;
        float[] x = Random(d, 1, 2, 0.5f), gamma = Random(d, 2, 0.5f, 1), beta = Random(d, 3, 0.3f), g = Random(d, 4);
        var (y, xhat, rstd) = LayerNormRow(x, gamma, beta);
        var dx = new float[d];
        LayerNormRule.Backward(g, xhat, rstd, gamma, dx, new float[d]);

        double mean = x.Average(v => (double)v), variance = x.Average(v => (v - mean) * (v - mean));
        double sigma = Math.Sqrt(variance + 1e-5), meanGg = Enumerable.Range(0, d).Average(i => (double)gamma[i] * g[i]);
        for (int i = 0; i < d; i++) Assert.Equal((gamma[i] * g[i] - meanGg) / sigma, dx[i], 1e-5);

        double inRelevance = Enumerable.Range(0, d).Sum(i => (double)x[i] * dx[i]);
        double outRelevance = Enumerable.Range(0, d).Sum(i => (double)(y[i] - beta[i]) * g[i]);
        Assert.Equal(outRelevance, inRelevance, 1e-4);
    }

    [Fact]
    public void ExactLayerNormGradientMatchesFiniteDifferences()
    {
        const int d = 10;
        float[] x = Random(d, 5, 2, 0.3f), gamma = Random(d, 6, 0.5f, 1), beta = Random(d, 7, 0.3f), g = Random(d, 8);
        var (_, xhat, rstd) = LayerNormRow(x, gamma, beta);
        var dx = new float[d];
        LayerNorm.Gradient(g, xhat, rstd, gamma, dx, new float[d]);
        double L(double[] v)
        {
            double mu = v.Average(), s = Math.Sqrt(v.Average(a => (a - mu) * (a - mu)) + 1e-5);
            return Enumerable.Range(0, d).Sum(i => ((v[i] - mu) / s * gamma[i] + beta[i]) * g[i]);
        }
        for (int i = 0; i < d; i++)
        {
            var p = x.Select(v => (double)v).ToArray(); p[i] += 1e-6;
            var m = x.Select(v => (double)v).ToArray(); m[i] -= 1e-6;
            Assert.Equal((L(p) - L(m)) / 2e-6, dx[i], 1e-4);
        }
        // Unlike the LN-rule, the exact gradient is orthogonal to x̂: it is blind to rescaling x.
        Assert.Equal(0, Enumerable.Range(0, d).Sum(i => (double)xhat[i] * dx[i]), 1e-5);
    }

    [Fact]
    public void IdentityRuleFreezesTheGateAndConservesRelevance()
    {
        // Edge values in the first vector of 16 lanes, then enough for a second vector and a ragged tail.
        float[] u = [-3, -0.5f, -1e-8f, 0, 1e-8f, 0.2f, 1, 4, .. Random(32, 5, 3)];
        var post = new float[u.Length];
        Gelu.Forward(u, post);
        var g = Random(u.Length, 9);
        var du = new float[u.Length];
        IdentityRule.Backward(u, post, g, du);
        for (int i = 0; i < u.Length; i++)
        {
            double stabilised = u[i] > 0 ? u[i] + 1e-6 : u[i] < 0 ? u[i] - 1e-6 : 1e-6;
            Assert.Equal(g[i] * post[i] / stabilised, du[i], 1e-5);
        }
        double inRelevance = u.Select((x, i) => (double)x * du[i]).Sum();
        double outRelevance = post.Select((p, i) => (double)p * g[i]).Sum();
        Assert.Equal(outRelevance, inRelevance, 1e-5);
    }

    [Fact]
    public void GeluForwardAndExactGradientMatchTheFormulaAndFiniteDifferences()
    {
        // Saturated and near-zero values first, then over two of the gradient's chunks and a ragged rest.
        float[] u = [-60, -20, -1e-8f, 0, 1e-8f, 20, 60, 1e-3f, .. Random(1300, 10, 4)];
        var post = new float[u.Length];
        Gelu.Forward(u, post);
        var g = Random(u.Length, 11, 2);
        var du = new float[u.Length];
        Gelu.Gradient(u, post, g, du);
        static double F(double x) => 0.5 * x * (1 + Math.Tanh(Math.Sqrt(2 / Math.PI) * (x + 0.044715 * x * x * x)));
        for (int i = 0; i < u.Length; i++)
        {
            Assert.Equal(F(u[i]), post[i], 1e-5);
            Assert.Equal(g[i] * (F(u[i] + 1e-6) - F(u[i] - 1e-6)) / 2e-6, du[i], 2e-4);
        }
    }

    private static readonly Gpt2Config Head = new(10, 8, DModel: 8, NLayers: 1, NHeads: 2, DMlp: 32, 1e-5f, "gelu_new", 0);
    private const int T = 5;

    private static (float[] Dqkv, float[] Pattern) HeadBackward(float[] qkv, float[] dz, AttentionShares shares, int head)
    {
        var pattern = new float[T * T];
        var z = new float[T * Head.DModel];
        Attention.Forward(qkv, pattern, z, T, head, Head.DModel, Head.DHead);
        var dqkv = new float[T * 3 * Head.DModel];
        Array.Fill(dqkv, float.NaN); // every entry of the head's slices must be written
        Attention.Backward(qkv, pattern, dz, dqkv, T, head, Head.DModel, Head.DHead, shares);
        return (dqkv, pattern);
    }

    private static IEnumerable<int> Columns(int head, int part) =>
        Enumerable.Range(part * Head.DModel + head * Head.DHead, Head.DHead);

    [Fact]
    public void ExactAttentionBackwardMatchesFiniteDifferences()
    {
        var qkv = Random(T * 3 * Head.DModel, 11);
        var r = Random(T * Head.DModel, 12);
        const int head = 1;
        var (dqkv, _) = HeadBackward(qkv, r, AttentionShares.Gradient, head);
        double L(float[] input)
        {
            var p = new float[T * T]; var z = new float[T * Head.DModel];
            Attention.Forward(input, p, z, T, head, Head.DModel, Head.DHead);
            return Columns(head, 0).Sum(c => Enumerable.Range(0, T).Sum(t => (double)z[t * Head.DModel + c] * r[t * Head.DModel + c]));
        }
        for (int part = 0; part < 3; part++)
            foreach (int c in Columns(head, part))
                for (int t = 0; t < T; t++)
                {
                    int i = t * 3 * Head.DModel + c;
                    var p = (float[])qkv.Clone(); p[i] += 1e-2f;
                    var m = (float[])qkv.Clone(); m[i] -= 1e-2f;
                    Assert.Equal((L(p) - L(m)) / (p[i] - m[i]), dqkv[i], 2e-3);
                }
    }

    [Fact]
    public void AttentionHeadRuleFreezesThePattern()
    {
        var qkv = Random(T * 3 * Head.DModel, 13);
        var dz = Random(T * Head.DModel, 14);
        const int head = 0;
        var (dqkv, pattern) = HeadBackward(qkv, dz, AttentionShares.AttentionHeadRule, head);
        foreach (int c in Columns(head, 0).Concat(Columns(head, 1)))
            for (int t = 0; t < T; t++) Assert.Equal(0f, dqkv[t * 3 * Head.DModel + c]);
        // dv = Aᵀdz, written out.
        int vc = 0;
        foreach (int c in Columns(head, 2))
        {
            for (int j = 0; j < T; j++)
            {
                double expected = Enumerable.Range(0, T).Sum(i => (double)pattern[i * T + j] * dz[i * Head.DModel + head * Head.DHead + vc]);
                Assert.Equal(expected, dqkv[j * 3 * Head.DModel + c], 1e-5);
            }
            vc++;
        }
    }

    [Fact]
    public void HalfRuleGivesEachFactorHalfAndConservesTheProduct()
    {
        var qkv = Random(T * 3 * Head.DModel, 15);
        var dz = Random(T * Head.DModel, 16);
        const int head = 1;
        var (exact, _) = HeadBackward(qkv, dz, AttentionShares.Gradient, head);
        var (half, pattern) = HeadBackward(qkv, dz, AttentionShares.HalfRule, head);
        for (int t = 0; t < T; t++)
        {
            foreach (int c in Columns(head, 2)) Assert.Equal(0.5 * exact[t * 3 * Head.DModel + c], half[t * 3 * Head.DModel + c], 1e-6);
            // The pattern gets half of z = A·v, and q·kᵀ splits that half again: a quarter of the exact dq, dk.
            foreach (int c in Columns(head, 0).Concat(Columns(head, 1)))
                Assert.Equal(0.25 * exact[t * 3 * Head.DModel + c], half[t * 3 * Head.DModel + c], 1e-6);
        }
        // Conservation for the product z = A·v: the value side carries Σ v·dv = ½ Σ z·dz.
        var z = new float[T * Head.DModel];
        Attention.Forward(qkv, new float[T * T], z, T, head, Head.DModel, Head.DHead);
        double valueRelevance = 0, outRelevance = 0;
        for (int t = 0; t < T; t++)
            for (int c = 0; c < Head.DHead; c++)
            {
                valueRelevance += (double)qkv[t * 3 * Head.DModel + 2 * Head.DModel + head * Head.DHead + c] * half[t * 3 * Head.DModel + 2 * Head.DModel + head * Head.DHead + c];
                outRelevance += (double)z[t * Head.DModel + head * Head.DHead + c] * dz[t * Head.DModel + head * Head.DHead + c];
            }
        Assert.Equal(0.5 * outRelevance, valueRelevance, 1e-5);
        Assert.All(pattern, p => Assert.True(p >= 0));
    }

    /// <summary>
    /// What the Half-rule conserves past the value side: the pattern gets R(A) = Σ A⊙dA = ½ Σ z·dz; the
    /// softmax then changes the relevance (it is not linear), and the score product s = q·kᵀ/√d_head splits
    /// what reaches it, R(s) = Σ s⊙dS, exactly in half: Σ q·dq = Σ k·dk = ½ R(s).
    /// </summary>
    [Fact]
    public void HalfRuleSplitsTheScoreRelevanceEquallyBetweenQueryAndKey()
    {
        var qkv = Random(T * 3 * Head.DModel, 17);
        var dz = Random(T * Head.DModel, 18);
        const int head = 0;
        var (half, pattern) = HeadBackward(qkv, dz, AttentionShares.HalfRule, head);
        int d = Head.DModel, dh = Head.DHead, ld = 3 * d;
        double Q(int t, int c) => qkv[t * ld + head * dh + c];
        double K(int t, int c) => qkv[t * ld + d + head * dh + c];
        double V(int t, int c) => qkv[t * ld + 2 * d + head * dh + c];
        double Dz(int t, int c) => dz[t * d + head * dh + c];

        double patternRelevance = 0, outRelevance = 0, scoreRelevance = 0;
        for (int i = 0; i < T; i++)
        {
            var dA = new double[i + 1];
            for (int j = 0; j <= i; j++) dA[j] = 0.5 * Enumerable.Range(0, dh).Sum(c => Dz(i, c) * V(j, c));
            double weighted = Enumerable.Range(0, i + 1).Sum(j => pattern[i * T + j] * dA[j]);
            for (int j = 0; j <= i; j++)
            {
                double s = Enumerable.Range(0, dh).Sum(c => Q(i, c) * K(j, c)) / Math.Sqrt(dh);
                double dS = pattern[i * T + j] * (dA[j] - weighted);
                scoreRelevance += s * dS;
                patternRelevance += pattern[i * T + j] * dA[j];
            }
            for (int c = 0; c < dh; c++)
                outRelevance += Dz(i, c) * Enumerable.Range(0, i + 1).Sum(j => pattern[i * T + j] * V(j, c));
        }
        double queryRelevance = 0, keyRelevance = 0;
        for (int t = 0; t < T; t++)
            for (int c = 0; c < dh; c++)
            {
                queryRelevance += Q(t, c) * half[t * ld + head * dh + c];
                keyRelevance += K(t, c) * half[t * ld + d + head * dh + c];
            }
        Assert.Equal(0.5 * outRelevance, patternRelevance, 1e-9);
        Assert.Equal(0.5 * scoreRelevance, queryRelevance, 1e-5);
        Assert.Equal(0.5 * scoreRelevance, keyRelevance, 1e-5);
        Assert.True(Math.Abs(scoreRelevance - patternRelevance) > 1e-3, "the softmax is not conservative on generic inputs");
    }

    [Fact]
    public void PresetsAreDataAndParse()
    {
        Assert.Equal(PropagationRules.RelP, PropagationRules.Parse("relp"));
        Assert.Equal(PropagationRules.RelPAh, PropagationRules.Parse("ln,identity,ah"));
        Assert.Equal(PropagationRules.Gradient, PropagationRules.Parse("gradient"));
        Assert.Equal(PropagationRules.AttnLrp, PropagationRules.Parse("ln,identity,half-attn"));
        Assert.Equal(["ln", "identity", "half"], PropagationRules.RelP.InForce);
        Assert.Equal("ln+identity+half (half: no gated MLP in this model)", PropagationRules.RelP.Describe(gatedMlp: false));
        Assert.Equal("ln+identity+half", PropagationRules.RelP.Describe(gatedMlp: true));
        Assert.Equal("exact gradient", PropagationRules.Gradient.Describe(gatedMlp: false));
        // The seed's Half-rule leaves attention exact; only half-attn splits it.
        Assert.Equal(AttentionShares.Gradient, PropagationRules.RelP.Attention);
        Assert.Equal(AttentionShares.HalfRule, PropagationRules.AttnLrp.Attention);
        var both = PropagationRules.Parse("ah,half-attn");
        Assert.True(both.HalfAttentionOverridden);
        Assert.Equal(AttentionShares.AttentionHeadRule, both.Attention);
        Assert.Equal(["ah"], both.InForce);
        Assert.Equal("ah (half-attn: overridden by ah)", both.Describe(gatedMlp: false));
        Assert.Contains("unknown propagation rule \"lnn\"", Assert.Throws<RelpSaeException>(() => PropagationRules.Parse("lnn,half")).Message);
    }

    /// <summary>
    /// Each rule replaces its own operation's exact gradient and no other: the LN-rule in the family's norm's
    /// form, the Identity-rule the activation and the logit cap, the Half-rule a gated product (none without one).
    /// </summary>
    [Fact]
    public void EachRuleReplacesItsOperationsExactGradientOnly()
    {
        var gated = new ExactGradients(NormKind.RmsNorm, RmsNorm.Gradient, Silu.Gradient, GatedProduct.Gradient, new Softcap(5).Gradient);
        Assert.Equal(new BackwardFunctions(gated.Norm, gated.Activation, gated.Product, AttentionShares.Gradient, gated.LogitCap),
            BackwardFunctions.Resolve(PropagationRules.Gradient, gated));
        Assert.Equal(new BackwardFunctions(RmsNormRule.Backward, gated.Activation, gated.Product, AttentionShares.Gradient, gated.LogitCap),
            BackwardFunctions.Resolve(PropagationRules.Parse("ln"), gated));
        Assert.Equal(new BackwardFunctions(gated.Norm, IdentityRule.Backward, gated.Product, AttentionShares.Gradient, IdentityRule.Backward),
            BackwardFunctions.Resolve(PropagationRules.Parse("identity"), gated));
        Assert.Equal(new BackwardFunctions(gated.Norm, gated.Activation, HalfRule.Backward, AttentionShares.AttentionHeadRule, gated.LogitCap),
            BackwardFunctions.Resolve(PropagationRules.Parse("half,ah"), gated));
        var plain = new ExactGradients(NormKind.LayerNorm, LayerNorm.Gradient, Gelu.Gradient);
        Assert.Equal(new BackwardFunctions(LayerNormRule.Backward, IdentityRule.Backward, null, AttentionShares.HalfRule, null),
            BackwardFunctions.Resolve(PropagationRules.Parse("ln,identity,half,half-attn"), plain));
    }
}
