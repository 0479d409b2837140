using System.Numerics;

namespace RelpSae.Graphs;

/// <summary>
/// circuit-tracer's influence arithmetic on an adjacency [target × source]: rows normalised to |A| / Σ|A| (each target's
/// inputs as fractions), the influence of every node on the logits weighted by their probabilities, w·(Â + Â² + …),
/// summed term by term until a term vanishes (the graph has no cycles), and the score threshold that keeps a given
/// fraction of the total.
/// </summary>
public static class GraphInfluence
{
    /// <summary>|A| with each row divided by its sum (at least 1e-10, as circuit-tracer clamps).</summary>
    public static float[] Normalize(float[] adjacency, int n)
    {
        var normalized = new float[adjacency.Length];
        for (int t = 0; t < n; t++)
        {
            var row = adjacency.AsSpan(t * n, n);
            double sum = 0;
            foreach (var a in row) sum += Math.Abs(a);
            float scale = (float)(1 / Math.Max(sum, 1e-10));
            var into = normalized.AsSpan(t * n, n);
            for (int j = 0; j < n; j++) into[j] = Math.Abs(row[j]) * scale;
        }
        return normalized;
    }

    /// <summary>w·Â + w·Â² + … (circuit-tracer's compute_influence): refused past 1000 terms, which only a cycle could need.</summary>
    public static double[] Influence(float[] normalized, int n, double[] weights)
    {
        var total = new double[n];
        var current = Step(normalized, n, weights);
        for (int terms = 0; current.Any(x => x != 0); terms++)
        {
            if (terms >= 1000) throw new RelpSaeException("the graph's influence did not converge in 1000 steps: its adjacency has a cycle");
            for (int j = 0; j < n; j++) total[j] += current[j];
            current = Step(normalized, n, current);
        }
        return total;
    }

    /// <summary>x·Â: each row's weight spread over its sources.</summary>
    private static double[] Step(float[] normalized, int n, double[] x)
    {
        var next = new double[n];
        for (int t = 0; t < n; t++)
        {
            if (x[t] == 0) continue;
            var row = normalized.AsSpan(t * n, n);
            for (int j = 0; j < n; j++) next[j] += x[t] * row[j];
        }
        return next;
    }

    /// <summary>
    /// circuit-tracer's compute_partial_influences: the influence on the logits of every node from the rows computed so far
    /// (rows[k] the edges into node <paramref name="rowNode"/>[k], over <paramref name="n"/> nodes whose last ones are the logits).
    /// </summary>
    public static double[] Partial(IReadOnlyList<float[]> rows, int[] rowNode, float[] logitProbabilities, int n, int logitStart)
    {
        var normalized = rows.Select(r =>
        {
            double sum = r.Sum(a => (double)Math.Abs(a));
            float scale = (float)(1 / Math.Max(sum, 1e-8));
            return r.Select(a => Math.Abs(a) * scale).ToArray();
        }).ToArray();
        var influence = new double[n];
        var prod = new double[n];
        for (int k = 0; k < logitProbabilities.Length; k++) prod[logitStart + k] = logitProbabilities[k];
        for (int iteration = 0; ; iteration++)
        {
            if (iteration >= 128) throw new RelpSaeException("the graph's partial influence did not converge in 128 steps");
            var next = new double[n];
            for (int k = 0; k < rows.Count; k++)
            {
                double w = prod[rowNode[k]];
                if (w == 0) continue;
                var row = normalized[k];
                for (int j = 0; j < n; j++) next[j] += w * row[j];
            }
            prod = next;
            if (!prod.Any(x => x != 0)) return influence;
            for (int j = 0; j < n; j++) influence[j] += prod[j];
        }
    }

    /// <summary>
    /// The score at which the scores sorted high to low first reach <paramref name="fraction"/> of their total (circuit-tracer's
    /// find_threshold); the smallest score when rounding keeps the sum short of it. Zeros are left out: a score of zero
    /// never passes, where circuit-tracer's threshold of 1 lets zero-weight edges through.
    /// </summary>
    public static T FindThreshold<T>(IEnumerable<T> scores, double fraction) where T : INumber<T>
    {
        var sorted = scores.Where(s => s > T.Zero).ToArray();
        Array.Sort(sorted, (a, b) => b.CompareTo(a));
        if (sorted.Length == 0) return T.One;
        double total = 0, cumulative = 0;
        foreach (var s in sorted) total += double.CreateChecked(s);
        foreach (var s in sorted)
        {
            cumulative += double.CreateChecked(s);
            if (cumulative / total >= fraction) return s;
        }
        return sorted[^1];
    }
}
