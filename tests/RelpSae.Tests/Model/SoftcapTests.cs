using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Tests.Model;

/// <summary>
/// Gemma-2's soft-caps on their own: a capped, rescaled attention head and capped metrics against finite
/// differences (caps small enough to bend), and the Identity-rule on the logits' cap conserving the metric.
/// </summary>
public class SoftcapTests
{
    private static float[] Random(int n, int seed, float scale)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1) * scale).ToArray();
    }

    [Fact]
    public void TheCapBendsIntoItsBoundAndIsTheIdentityWhenUnset()
    {
        var cap = new Softcap(2);
        Assert.Equal(2 * MathF.Tanh(1.5f), cap.Apply(3f), 6);
        Assert.True(cap.Apply(100f) <= 2f && cap.Apply(-100f) >= -2f);
        Assert.Equal(3f, default(Softcap).Apply(3f));
        var s = new[] { -5f, 0.3f, 7f };
        default(Softcap).Apply(s);
        Assert.Equal([-5f, 0.3f, 7f], s);
    }

    [Fact]
    public void ACappedRescaledHeadsBackwardMatchesFiniteDifferences()
    {
        const int T = 7, heads = 2, dh = 4, d = heads * dh, head = 1;
        var scores = new AttentionScores(1f / MathF.Sqrt(3), new Softcap(1.5f));
        var qkv = Random(T * 3 * d, 21, 1.5f);
        var r = Random(T * d, 22, 1);
        double L(float[] input)
        {
            var p = new float[T * T]; var z = new float[T * d];
            Attention.Forward(input, p, z, T, head, d, dh, scores: scores);
            return Enumerable.Range(0, T).Sum(t => Enumerable.Range(head * dh, dh).Sum(c => (double)z[t * d + c] * r[t * d + c]));
        }
        var pattern = new float[T * T];
        Attention.Forward(qkv, pattern, new float[T * d], T, head, d, dh, scores: scores);
        // The cap bends: some scaled score is past half the cap.
        double widest = 0;
        for (int i = 0; i < T; i++)
            for (int j = 0; j <= i; j++)
            {
                double s = 0;
                for (int c = 0; c < dh; c++) s += qkv[i * 3 * d + head * dh + c] * qkv[j * 3 * d + d + head * dh + c];
                widest = Math.Max(widest, Math.Abs(s * scores.Scale));
            }
        Assert.True(widest > 0.75, $"widest scaled score {widest}");
        var dqkv = new float[T * 3 * d];
        Attention.Backward(qkv, pattern, r, dqkv, T, head, d, dh, AttentionShares.Gradient, scores);
        for (int part = 0; part < 3; part++)
            for (int t = 0; t < T; t++)
                for (int c = head * dh; c < (head + 1) * dh; c++)
                {
                    int i = t * 3 * d + part * d + c;
                    var p = (float[])qkv.Clone(); p[i] += 1e-2f;
                    var m = (float[])qkv.Clone(); m[i] -= 1e-2f;
                    Assert.Equal((L(p) - L(m)) / (p[i] - m[i]), dqkv[i], 2e-3);
                }
    }

    public static TheoryData<MetricKind> Kinds => [MetricKind.Logit, MetricKind.LogitDiff, MetricKind.LogProb];

    /// <summary>A final row h [6] and an unembedding [9 × 6] whose logits pass the cap of 1.2, and a metric of the kind on them.</summary>
    private static (float[] H, Linear Unembed, Softcap Cap, Metric Metric) CappedReadout(MetricKind kind, int seed) =>
        (Random(6, seed, 1.5f), new Linear(Random(9 * 6, seed + 1, 1.5f), null, 6, 9), new Softcap(1.2f), new Metric(kind, 4, kind == MetricKind.LogitDiff ? 7 : -1));

    [Theory, MemberData(nameof(Kinds))]
    public void CappedMetricsGradientMatchesFiniteDifferences(MetricKind kind)
    {
        var (h, unembed, cap, metric) = CappedReadout(kind, 31);
        var dh = new float[h.Length];
        metric.Gradient(h, unembed, dh, cap);
        for (int i = 0; i < h.Length; i++)
        {
            var p = (float[])h.Clone(); p[i] += 1e-3f;
            var m = (float[])h.Clone(); m[i] -= 1e-3f;
            Assert.Equal((metric.Value(p, unembed, cap) - metric.Value(m, unembed, cap)) / (p[i] - m[i]), dh[i], 2e-3);
        }
        Assert.NotEqual(metric.Value(h, unembed), metric.Value(h, unembed, cap));
    }

    [Theory]
    [InlineData(MetricKind.Logit)]
    [InlineData(MetricKind.LogitDiff)]
    public void TheIdentityRuleOnTheCapConservesTheMetric(MetricKind kind)
    {
        // The rule passes each logit's relevance through the cap unchanged: h·dm/dh is the metric itself.
        var (h, unembed, cap, metric) = CappedReadout(kind, 41);
        var dh = new float[h.Length];
        metric.Gradient(h, unembed, dh, cap, IdentityRule.Backward);
        double relevance = h.Zip(dh, (a, b) => (double)a * b).Sum();
        Assert.Equal(metric.Value(h, unembed, cap), relevance, 1e-4);
        var exact = new float[h.Length];
        metric.Gradient(h, unembed, exact, cap);
        Assert.NotEqual(exact, dh);
    }
}
