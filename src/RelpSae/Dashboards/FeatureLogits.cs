using System.Numerics.Tensors;
using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Dashboards;

/// <summary>
/// What each feature writes to the output tokens, as SAEDashboard computes it for a TransformerLens model loaded
/// with its defaults (fold_ln, center_unembed) after fold_W_dec_norm: the unit-norm decoder direction through the
/// final norm's scale (a LayerNorm's centring included) and W_U (<see cref="ITransformer.DirectionLogits"/>), then
/// centred over the vocabulary. The ranking is that of the norm's scale applied; the unit norm and the centring
/// change the values only.
/// </summary>
internal static class FeatureLogits
{
    /// <summary>Features per product: memory is this many × V floats.</summary>
    private const int Chunk = 256;

    /// <summary>Per feature, the <paramref name="count"/> largest logits (largest first) and smallest (smallest first).</summary>
    public static (OutputToken[] Top, OutputToken[] Bottom)[] Of(ITransformer model, SparseAutoencoder sae, int count, CancellationToken cancellationToken = default)
    {
        int d = sae.DIn, V = model.Facts.VocabSize;
        var result = new (OutputToken[], OutputToken[])[sae.DSae];
        var directions = new float[Chunk * d];
        for (int first = 0; first < sae.DSae; first += Chunk)
        {
            cancellationToken.ThrowIfCancellationRequested();
            int n = Math.Min(Chunk, sae.DSae - first);
            for (int i = 0; i < n; i++)
            {
                var row = directions.AsSpan(i * d, d);
                sae.DecoderRow(first + i).CopyTo(row);
                float norm = TensorPrimitives.Norm(row);
                if (norm > 0) TensorPrimitives.Divide(row, norm, row);
            }
            var logits = model.DirectionLogits(directions.AsSpan(0, n * d), n);
            for (int i = 0; i < n; i++)
            {
                var row = logits.AsSpan(i * V, V);
                TensorPrimitives.Subtract(row, TensorPrimitives.Sum(row) / V, row);
                result[first + i] = (Extremes(row, count, largest: true), Extremes(row, count, largest: false));
            }
        }
        return result;
    }

    /// <summary>The <paramref name="count"/> largest (or smallest) entries, most extreme first, the lower id first among equals.</summary>
    private static OutputToken[] Extremes(ReadOnlySpan<float> logits, int count, bool largest)
    {
        var kept = new List<OutputToken>(count + 1);
        float sign = largest ? 1 : -1;
        for (int id = 0; id < logits.Length; id++)
        {
            float v = sign * logits[id];
            if (kept.Count == count && !(v > sign * kept[^1].Logit)) continue;
            int at = kept.Count;
            while (at > 0 && v > sign * kept[at - 1].Logit) at--;
            kept.Insert(at, new OutputToken(id, logits[id]));
            if (kept.Count > count) kept.RemoveAt(count);
        }
        return [.. kept];
    }
}
