using System.Numerics.Tensors;
using RelpSae.Model;
using RelpSae.Numerics;

namespace RelpSae.Graphs;

/// <summary>
/// The logits an attribution graph explains, picked as circuit-tracer's compute_salient_logits picks them: the most
/// probable tokens at the last position, in order, until their probabilities add up to at least
/// <paramref name="desiredProbability"/>, at most <paramref name="maxLogits"/>. Each logit's direction is its unembedding
/// row less the mean row over the vocabulary (circuit-tracer's demeaned W_U column), so it reads logit − mean logit.
/// </summary>
public sealed record SalientLogits(int[] Tokens, float[] Probabilities, float[][] Directions)
{
    public static SalientLogits Select(ITransformer model, ReadOnlySpan<float> lastLogits, int maxLogits, double desiredProbability)
    {
        var p = new float[lastLogits.Length];
        Softmax.Apply(lastLogits, p);
        var order = Enumerable.Range(0, p.Length).OrderByDescending(v => p[v]).ThenBy(v => v).Take(maxLogits).ToArray();
        int count = 0;
        double cumulative = 0;
        while (count < order.Length)
        {
            cumulative += p[order[count++]];
            if (cumulative >= desiredProbability) break;
        }
        var tokens = order[..count];
        var mean = model.UnembeddingMean();
        var directions = tokens.Select(t =>
        {
            var row = model.UnembeddingRow(t);
            TensorPrimitives.Subtract(row, mean, row);
            return row;
        }).ToArray();
        return new SalientLogits(tokens, [.. tokens.Select(t => p[t])], directions);
    }
}
