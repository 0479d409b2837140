using System.Diagnostics;
using RelpSae.Model;
using RelpSae.Numerics;

namespace RelpSae.Attribution;

/// <summary>
/// Turns a method's hook gradient g into scores (docs/methods.md §5): because features reach the model only
/// through the linear decoder, ∂m/∂f = g·W_decᵀ for all features at once, so a feature's score at a
/// position is (f − f′)·(g·W_decᵀ) and the error node's is (ε − ε′)·g.
/// </summary>
public static class Attributor
{
    public static AttributionResult Run(IAttributionMethod method, SaeSplice splice, Metric metric)
    {
        var clock = Stopwatch.StartNew();
        var g = method.HookGradient(splice, metric);
        return Score(method, splice, g, clock.Elapsed.TotalSeconds);
    }

    /// <summary>The scores from a method's vector g [tokens × d] at the splice's hook; <paramref name="seconds"/> is what g cost.</summary>
    public static AttributionResult Score(IAttributionMethod method, SaeSplice splice, float[] g, double seconds)
    {
        var clock = Stopwatch.StartNew();
        var sae = splice.Sae;
        int T = splice.Tokens, d = sae.DIn, n = sae.DSae;

        var scores = new float[T * n];
        Gemm.Multiply(Matrix.Of(g, T, d), Matrix.Of(sae.WDec, n, d).T, Matrix.Into(scores, T, n));
        var totals = new double[n];
        var errors = new double[T];
        for (int t = 0; t < T; t++)
        {
            for (int i = 0; i < n; i++)
            {
                int k = t * n + i;
                scores[k] *= splice.Features[k] - splice.BaselineFeatures[k];
                totals[i] += scores[k];
            }
            double e = 0;
            for (int j = 0; j < d; j++) e += (double)(splice.Error[t * d + j] - splice.BaselineError[t * d + j]) * g[t * d + j];
            errors[t] = e;
        }
        return new AttributionResult(method.Name, method.Rules, T, n, scores, totals, errors, seconds + clock.Elapsed.TotalSeconds);
    }

    /// <summary>m(clean) − m(baseline): what a complete attribution's scores and error node add up to.</summary>
    public static double FullPatchDelta(SaeSplice splice, Metric metric) =>
        splice.MetricAt(splice.Clean, metric) - splice.MetricAt(splice.BaselineActivation, metric);
}
