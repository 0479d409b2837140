namespace RelpSae.Attribution;

/// <summary>
/// One method's pooled agreement statistics (<see cref="Agreement"/>) on a bootstrap resample given as
/// each prompt's draw count: a prompt drawn c times counts as c copies of its features. Everything that
/// does not depend on the resample (per-prompt sums, the sort orders for ranks) is computed once, so a
/// resample costs a few passes over the features and no allocation.
/// </summary>
internal sealed class ResampledAgreement
{
    private readonly double[] _scores, _truth, _scoreRanks, _truthRanks;
    private readonly int[] _promptOf, _scoreOrder, _truthOrder;
    private readonly PromptSums[] _prompts;

    /// <summary>Per-prompt sums about the pooled means (shifted for accuracy) and the counts behind sign agreement and relative error.</summary>
    private readonly record struct PromptSums(int N, double X, double Y, double Xx, double Yy, double Xy,
        int Signed, int SameSign, double AbsError, double AbsTruth);

    public ResampledAgreement(IReadOnlyList<PromptEvaluation> prompts, string method)
        : this(prompts.Select(p => (p.Scores[method], p.Truth)).ToList()) { }

    /// <summary>Each prompt's (scores, true effects) pairs, in prompt order.</summary>
    public ResampledAgreement(IReadOnlyList<(double[] Scores, double[] Truth)> prompts)
    {
        _scores = prompts.SelectMany(p => p.Scores).ToArray();
        _truth = prompts.SelectMany(p => p.Truth).ToArray();
        _promptOf = prompts.SelectMany((p, i) => Enumerable.Repeat(i, p.Truth.Length)).ToArray();
        _scoreOrder = SortOrder(_scores);
        _truthOrder = SortOrder(_truth);
        _scoreRanks = new double[_scores.Length];
        _truthRanks = new double[_truth.Length];
        double cx = _scores.Length == 0 ? 0 : _scores.Average(), cy = _truth.Length == 0 ? 0 : _truth.Average();
        _prompts = new PromptSums[prompts.Count];
        for (int e = 0; e < _scores.Length; e++)
        {
            ref var s = ref _prompts[_promptOf[e]];
            double x = _scores[e] - cx, y = _truth[e] - cy;
            bool signed = _truth[e] != 0;
            s = new PromptSums(s.N + 1, s.X + x, s.Y + y, s.Xx + x * x, s.Yy + y * y, s.Xy + x * y,
                s.Signed + (signed ? 1 : 0), s.SameSign + (signed && Math.Sign(_scores[e]) == Math.Sign(_truth[e]) ? 1 : 0),
                s.AbsError + Math.Abs(_scores[e] - _truth[e]), s.AbsTruth + Math.Abs(_truth[e]));
        }
    }

    public double Pearson(int[] counts)
    {
        double n = 0, sx = 0, sy = 0, sxx = 0, syy = 0, sxy = 0;
        for (int p = 0; p < _prompts.Length; p++)
        {
            int c = counts[p];
            if (c == 0) continue;
            var s = _prompts[p];
            n += c * s.N; sx += c * s.X; sy += c * s.Y; sxx += c * s.Xx; syy += c * s.Yy; sxy += c * s.Xy;
        }
        if (n < 2) return double.NaN;
        double vx = sxx - sx * sx / n, vy = syy - sy * sy / n;
        return vx <= 0 || vy <= 0 ? double.NaN : (sxy - sx * sy / n) / Math.Sqrt(vx * vy);
    }

    /// <summary>Spearman's ρ on the pooled resample: weighted average ranks (ties share them), then their weighted Pearson r.</summary>
    public double Spearman(int[] counts)
    {
        Rank(_scores, _scoreOrder, counts, _scoreRanks);
        Rank(_truth, _truthOrder, counts, _truthRanks);
        double n = 0, mx = 0, my = 0;
        for (int e = 0; e < _scoreRanks.Length; e++)
        {
            int w = counts[_promptOf[e]];
            n += w; mx += w * _scoreRanks[e]; my += w * _truthRanks[e];
        }
        if (n < 2) return double.NaN;
        mx /= n; my /= n;
        double sxx = 0, syy = 0, sxy = 0;
        for (int e = 0; e < _scoreRanks.Length; e++)
        {
            int w = counts[_promptOf[e]];
            double dx = _scoreRanks[e] - mx, dy = _truthRanks[e] - my;
            sxx += w * dx * dx; syy += w * dy * dy; sxy += w * dx * dy;
        }
        return sxx == 0 || syy == 0 ? double.NaN : sxy / Math.Sqrt(sxx * syy);
    }

    public double SignAgreement(int[] counts)
    {
        long signed = 0, same = 0;
        for (int p = 0; p < _prompts.Length; p++) { signed += (long)counts[p] * _prompts[p].Signed; same += (long)counts[p] * _prompts[p].SameSign; }
        return signed == 0 ? double.NaN : (double)same / signed;
    }

    public double RelativeError(int[] counts)
    {
        double error = 0, truth = 0;
        for (int p = 0; p < _prompts.Length; p++) { error += counts[p] * _prompts[p].AbsError; truth += counts[p] * _prompts[p].AbsTruth; }
        return truth == 0 ? double.NaN : error / truth;
    }

    /// <summary>The mean of per-prompt values over the resample, NaN values left out.</summary>
    public static double MeanOf(double[] perPrompt, int[] counts)
    {
        double sum = 0;
        long n = 0;
        for (int p = 0; p < perPrompt.Length; p++)
            if (!double.IsNaN(perPrompt[p])) { sum += counts[p] * perPrompt[p]; n += counts[p]; }
        return n == 0 ? double.NaN : sum / n;
    }

    private void Rank(double[] values, int[] order, int[] counts, double[] ranks)
    {
        double before = 0;
        for (int start = 0; start < order.Length;)
        {
            int end = start;
            double weight = counts[_promptOf[order[start]]];
            while (end + 1 < order.Length && values[order[end + 1]] == values[order[start]])
                weight += counts[_promptOf[order[++end]]];
            double average = before + (weight + 1) / 2;
            for (int j = start; j <= end; j++) ranks[order[j]] = average;
            before += weight;
            start = end + 1;
        }
    }

    private static int[] SortOrder(double[] values)
    {
        var order = Enumerable.Range(0, values.Length).ToArray();
        Array.Sort(order, (p, q) => values[p].CompareTo(values[q]));
        return order;
    }
}
