namespace RelpSae.Attribution;

/// <summary>
/// How well attribution scores a_i agree with the ground-truth effects Δm_i of patching each feature
/// (docs/methods.md §6). Undefined values (e.g. a correlation with a constant vector) are NaN.
/// </summary>
public static class Agreement
{
    public static double Pearson(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        CheckLengths(x, y);
        int n = x.Length;
        if (n < 2) return double.NaN;
        double mx = Mean(x), my = Mean(y), sxy = 0, sxx = 0, syy = 0;
        for (int i = 0; i < n; i++)
        {
            double dx = x[i] - mx, dy = y[i] - my;
            sxy += dx * dy; sxx += dx * dx; syy += dy * dy;
        }
        return sxx == 0 || syy == 0 ? double.NaN : sxy / Math.Sqrt(sxx * syy);
    }

    /// <summary>Spearman's ρ: Pearson's r of the ranks, ties given their average rank.</summary>
    public static double Spearman(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        CheckLengths(x, y);
        return Pearson(Ranks(x), Ranks(y));
    }

    /// <summary>|top-k by |a| ∩ top-k by |Δm|| / k, with k capped at the number of features.</summary>
    public static double TopK(ReadOnlySpan<double> scores, ReadOnlySpan<double> truth, int k)
    {
        CheckLengths(scores, truth);
        if (k <= 0) throw new ArgumentOutOfRangeException(nameof(k), "k must be positive");
        k = Math.Min(k, scores.Length);
        if (k == 0) return double.NaN;
        var a = TopIndices(scores, k);
        var b = TopIndices(truth, k);
        a.IntersectWith(b);
        return (double)a.Count / k;
    }

    /// <summary>Fraction of features with a non-zero true effect whose score has the same sign.</summary>
    public static double SignAgreement(ReadOnlySpan<double> scores, ReadOnlySpan<double> truth)
    {
        CheckLengths(scores, truth);
        int counted = 0, same = 0;
        for (int i = 0; i < truth.Length; i++)
        {
            if (truth[i] == 0) continue;
            counted++;
            if (Math.Sign(scores[i]) == Math.Sign(truth[i])) same++;
        }
        return counted == 0 ? double.NaN : (double)same / counted;
    }

    /// <summary>Σ|a − Δm| / Σ|Δm|: 0 when the scores are the effects, 1 when the scores are all zero.</summary>
    public static double RelativeError(ReadOnlySpan<double> scores, ReadOnlySpan<double> truth)
    {
        CheckLengths(scores, truth);
        double num = 0, den = 0;
        for (int i = 0; i < truth.Length; i++)
        {
            num += Math.Abs(scores[i] - truth[i]);
            den += Math.Abs(truth[i]);
        }
        return den == 0 ? double.NaN : num / den;
    }

    internal static double[] Ranks(ReadOnlySpan<double> v)
    {
        var order = new int[v.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var values = v.ToArray();
        Array.Sort(order, (p, q) => values[p].CompareTo(values[q]));
        var ranks = new double[v.Length];
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]]) end++;
            double average = 0.5 * (start + end) + 1;
            for (int j = start; j <= end; j++) ranks[order[j]] = average;
            start = end + 1;
        }
        return ranks;
    }

    private static HashSet<int> TopIndices(ReadOnlySpan<double> v, int k)
    {
        var order = new int[v.Length];
        for (int i = 0; i < order.Length; i++) order[i] = i;
        var magnitude = new double[v.Length];
        for (int i = 0; i < v.Length; i++) magnitude[i] = Math.Abs(v[i]);
        // Largest magnitude first; ties broken by index so the result is deterministic.
        Array.Sort(order, (p, q) => magnitude[q] != magnitude[p] ? magnitude[q].CompareTo(magnitude[p]) : p.CompareTo(q));
        return [.. order.AsSpan(0, k).ToArray()];
    }

    private static double Mean(ReadOnlySpan<double> v)
    {
        double s = 0;
        foreach (var x in v) s += x;
        return s / v.Length;
    }

    private static void CheckLengths(ReadOnlySpan<double> x, ReadOnlySpan<double> y)
    {
        if (x.Length != y.Length) throw new ArgumentException($"lengths differ: {x.Length} vs {y.Length}");
    }
}
