using RelpSae.Attribution;
using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Tests.Attribution;

public class FaithfulnessTests
{
    /// <summary>
    /// m(x) = Σ w·x at the last position: a downstream model whose metric is linear in the features. A linear map
    /// has nothing for a rule to replace, so its backward is w under any rules; it records the rules each
    /// backward pass was asked for, which the test checks are each method's own.
    /// </summary>
    private sealed class LinearDownstream(float[] w) : IDownstream
    {
        public readonly HashSet<PropagationRules> RulesAskedFor = [];

        public double[] Metric(float[] activations, int batch, int tokens, Metric metric)
        {
            int size = activations.Length / batch, d = w.Length;
            return Enumerable.Range(0, batch).Select(b =>
                Enumerable.Range(0, d).Sum(j => (double)w[j] * activations[b * size + (tokens - 1) * d + j])).ToArray();
        }

        public float[] Backward(float[] activations, int batch, int tokens, Metric metric, PropagationRules rules)
        {
            RulesAskedFor.Add(rules);
            var g = new float[activations.Length];
            int size = activations.Length / batch;
            for (int b = 0; b < batch; b++) w.CopyTo(g, b * size + (tokens - 1) * w.Length);
            return g;
        }
    }

    [Fact]
    public void OnALinearMetricEveryMethodIsTheGroundTruth()
    {
        const int d = 12, tokens = 4;
        var rng = new Random(3);
        float[] Random(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var sae = AttributionTests.RandomSae(d, 40, seed: 2);
        var downstream = new LinearDownstream(Random(d));
        var splice = SaeSplice.FromActivations(downstream, sae, Random(tokens * d), Baseline.Corrupt([]), Random(tokens * d));
        IAttributionMethod[] methods = [GradientMethod.Gradient, new IntegratedGradients(4), GradientMethod.RelP, GradientMethod.RelPAh];
        var evaluation = new FaithfulnessRunner(methods, new GroundTruth(batchSize: 7)).Evaluate(0, "linear", splice, new Metric(MetricKind.Logit, 0));
        Assert.True(evaluation.Features.Length > 10);
        // Each method's backward passes were asked for its own rules: gradient and IG none, RelP's and RelP-AH's.
        Assert.Equal(["exact gradient", "ln+identity+ah", "ln+identity+half"], downstream.RulesAskedFor.Select(r => r.Describe(gatedMlp: true)).Order());
        foreach (var m in methods)
        {
            var scores = evaluation.Scores[m.Name];
            for (int i = 0; i < scores.Length; i++) Assert.Equal(evaluation.Truth[i], scores[i], 1e-5);
            Assert.Equal(1.0, Agreement.Pearson(scores, evaluation.Truth), 9);
        }
        // And the effects add up: every feature plus the error node is the whole change.
        double error = Attributor.Run(GradientMethod.Gradient, splice, new Metric(MetricKind.Logit, 0)).ErrorNode;
        Assert.Equal(evaluation.MetricClean - evaluation.MetricBaseline, evaluation.Truth.Sum() + error, 1e-4);
    }
}
