namespace RelpSae.Model;

/// <summary>
/// The metrics of a batch read off a finished pass, whatever the family: one metric for every sequence
/// or one per sequence, each at its own position of the final-norm rows [batch·tokens × d].
/// </summary>
internal static class MetricRows
{
    public static void Check(IReadOnlyList<Metric> metrics, int batch, int vocabSize)
    {
        if (metrics.Count != 1 && metrics.Count != batch) throw new ArgumentException($"{metrics.Count} metrics for {batch} sequences");
        foreach (var m in metrics) m.Validate(vocabSize);
    }

    /// <summary>
    /// The metric of each sequence; a pass that reused a clean prefix holds rows <paramref name="first"/>.. of
    /// each sequence, and a metric read before them is the clean run's (<paramref name="cleanFinal"/>).
    /// </summary>
    public static double[] Values(IReadOnlyList<Metric> metrics, int batch, int tokens, float[] final, Linear unembed, int d,
        int first = 0, float[]? cleanFinal = null, Softcap cap = default)
    {
        var values = new double[batch];
        for (int b = 0; b < batch; b++)
        {
            var metric = metrics[metrics.Count == 1 ? 0 : b];
            int position = metric.ResolvePosition(tokens);
            var row = position < first ? cleanFinal.AsSpan(position * d, d) : final.AsSpan((b * (tokens - first) + position - first) * d, d);
            values[b] = metric.Value(row, unembed, cap);
        }
        return values;
    }
}
