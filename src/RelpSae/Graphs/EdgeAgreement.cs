using RelpSae.Attribution;

namespace RelpSae.Graphs;

/// <summary>How well a method's edge weights agree with the true direct effects, over all edges and over one edge type.</summary>
public sealed record EdgeStatistics(int Edges, Estimate Pearson, Estimate Spearman, Estimate SignAgreement, Estimate RelativeError);

/// <summary>One method's agreement: "all" and each <see cref="EdgeTypes.Key"/>, in that order.</summary>
public sealed record MethodEdgeAgreement(string Method, IReadOnlyList<(string Type, EdgeStatistics Statistics)> ByType);

/// <summary>
/// The edges block of an attribution graph's evaluation: per method, per edge type and over all edges, Pearson's r,
/// Spearman's ρ, sign agreement and relative error Σ|w − e|/Σ|e| (<see cref="Agreement"/>), each with a percentile
/// bootstrap interval that resamples source nodes — the edges leaving one node share its removal, so they are not
/// independent draws — the same resamples for every statistic, type and method.
/// </summary>
public sealed record EdgeAgreement(int Edges, int SourceNodes, int Resamples, IReadOnlyList<MethodEdgeAgreement> Methods)
{
    /// <summary>The most draw counts (resamples × source nodes) the bootstrap holds, 64 MB: many source nodes get fewer resamples.</summary>
    public const long MaxDrawCounts = 1L << 24;

    public static EdgeAgreement Measure(EdgeSet edges, int resamples = 1000, int seed = 0)
    {
        edges.Check();
        if (resamples < 0) throw new ArgumentOutOfRangeException(nameof(resamples), "resamples must not be negative");
        // Source ids as 0.. in order of first appearance: the bootstrap's units.
        var unitOf = new Dictionary<int, int>();
        var units = edges.Sources.Select(s => unitOf.TryGetValue(s, out int u) ? u : unitOf[s] = unitOf.Count).ToArray();
        int n = unitOf.Count;
        resamples = (int)Math.Min(resamples, n == 0 ? resamples : MaxDrawCounts / n);
        var bootstrap = new Bootstrap(n, resamples, seed);
        var subsets = new List<(string Key, Func<EdgeType, bool> Holds)> { ("all", _ => true) };
        subsets.AddRange(EdgeTypes.All.Select(t => (EdgeTypes.Key(t), (Func<EdgeType, bool>)(type => type == t))));
        var methods = edges.Weights.Select(m => new MethodEdgeAgreement(m.Key,
            [.. subsets.Select(s => (s.Key, Statistics(edges, m.Value, units, n, s.Holds, bootstrap)))])).ToList();
        return new EdgeAgreement(edges.Count, n, resamples, methods);
    }

    private static readonly Estimate Undefined = new(double.NaN, double.NaN, double.NaN);

    private static EdgeStatistics Statistics(EdgeSet edges, double[] weights, int[] units, int n, Func<EdgeType, bool> holds, Bootstrap bootstrap)
    {
        var scores = new List<double>[n];
        var truth = new List<double>[n];
        for (int u = 0; u < n; u++) { scores[u] = []; truth[u] = []; }
        for (int e = 0; e < edges.Count; e++)
            if (holds(edges.Types[e]))
            {
                scores[units[e]].Add(weights[e]);
                truth[units[e]].Add(edges.Truth[e]);
            }
        double[] w = [.. scores.SelectMany(s => s)], t = [.. truth.SelectMany(s => s)];
        // A type no edge has: every statistic undefined, no resample to draw.
        if (w.Length == 0) return new EdgeStatistics(0, Undefined, Undefined, Undefined, Undefined);
        var resampled = new ResampledAgreement([.. Enumerable.Range(0, n).Select(u => (scores[u].ToArray(), truth[u].ToArray()))]);
        return new EdgeStatistics(w.Length,
            bootstrap.Interval(Agreement.Pearson(w, t), resampled.Pearson),
            bootstrap.Interval(Agreement.Spearman(w, t), resampled.Spearman),
            bootstrap.Interval(Agreement.SignAgreement(w, t), resampled.SignAgreement),
            bootstrap.Interval(Agreement.RelativeError(w, t), resampled.RelativeError));
    }
}
