using System.Numerics.Tensors;
using RelpSae.Model;

namespace RelpSae.Attribution;

/// <summary>
/// The real effect of each feature (docs/methods.md §6): patch f_i to its baseline value f′_i (at every position,
/// or at one), keep the error node fixed, re-run the blocks after the hook and record
/// m(clean) − m(patched) — the sign convention of the attribution scores. Features go through the
/// model <see cref="BatchSize"/> at a time; a feature that changes nothing has effect 0.
/// </summary>
public sealed class GroundTruth(int batchSize = 32)
{
    public int BatchSize { get; } = Math.Max(1, batchSize);

    /// <summary>Features active (non-zero) at any position in the clean or the baseline run.</summary>
    public static int[] ActiveFeatures(SaeSplice splice)
    {
        int n = splice.Sae.DSae;
        var active = new bool[n];
        for (int k = 0; k < splice.Features.Length; k++)
            if (splice.Features[k] != 0 || splice.BaselineFeatures[k] != 0) active[k % n] = true;
        return Enumerable.Range(0, n).Where(i => active[i]).ToArray();
    }

    public double[] Effects(SaeSplice splice, Metric metric, IReadOnlyList<int> features, int? position = null)
    {
        int T = splice.Tokens, d = splice.Sae.DIn, n = splice.Sae.DSae, size = T * d;
        if (position is { } p && (p < 0 || p >= T)) throw new RelpSaeException($"patch position {p} is outside a prompt of {T} tokens");
        double clean = splice.MetricAt(splice.Clean, metric);
        int from = position ?? 0, to = position is { } q ? q + 1 : T;
        float Delta(int feature, int t) => splice.BaselineFeatures[t * n + feature] - splice.Features[t * n + feature];
        // Rows before a feature's first non-zero delta do not change (attention is causal): features go through
        // the model in order of that row, so that each batch recomputes only the rows from its first one on.
        var first = features.Select(f => Enumerable.Range(from, to - from).FirstOrDefault(t => Delta(f, t) != 0, T)).ToArray();
        var order = Enumerable.Range(0, features.Count).OrderBy(i => first[i]).ToArray();
        var effects = new double[features.Count];
        for (int start = 0; start < features.Count && first[order[start]] < T; start += BatchSize)
        {
            int count = Math.Min(BatchSize, features.Count - start), firstRow = first[order[start]];
            var batch = new float[count * size];
            for (int b = 0; b < count; b++)
            {
                int feature = features[order[start + b]];
                splice.Clean.CopyTo(batch.AsSpan(b * size, size));
                var row = splice.Sae.DecoderRow(feature);
                for (int t = from; t < to; t++)
                {
                    // Decoding is linear: moving f_i to f′_i moves x̂, and so x, by (f′_i − f_i)·W_dec[i].
                    float delta = Delta(feature, t);
                    if (delta != 0) TensorPrimitives.MultiplyAdd(row, delta, batch.AsSpan(b * size + t * d, d), batch.AsSpan(b * size + t * d, d));
                }
            }
            var values = splice.Downstream.Metric(batch, count, T, metric, splice.Clean, firstRow);
            for (int b = 0; b < count; b++) effects[order[start + b]] = clean - values[b];
        }
        return effects;
    }
}
