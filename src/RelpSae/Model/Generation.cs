using System.Numerics.Tensors;

namespace RelpSae.Model;

/// <summary>
/// Autoregressive continuation of a prompt: greedy at temperature 0, otherwise sampled from
/// softmax(logits / temperature) with a seeded generator. Each step re-runs the prompt so far and
/// computes only the last position's logits (the contexts here are short; no KV cache).
/// </summary>
public static class Generation
{
    /// <summary>The <paramref name="count"/> token ids that follow <paramref name="prompt"/> (the prompt excluded).</summary>
    public static int[] Continue(ITransformer model, IReadOnlyList<int> prompt, int count, float temperature = 0, int seed = 0)
    {
        if (prompt.Count == 0) throw new RelpSaeException("the prompt is empty: generation needs at least one token");
        if (count < 0) throw new RelpSaeException($"--tokens must be at least 0, got {count}");
        if (temperature < 0 || !float.IsFinite(temperature)) throw new RelpSaeException($"--temperature must be a finite number ≥ 0, got {temperature}");
        int limit = model.Facts.Context;
        if (count > limit - prompt.Count)
            throw new RelpSaeException($"--tokens {count} after a prompt of {prompt.Count} tokens exceeds the model's context of {limit} ({model.Facts.ContextKey})");

        var rng = new Random(seed);
        var ids = new int[prompt.Count + count];
        for (int i = 0; i < prompt.Count; i++) ids[i] = prompt[i];
        var options = new RunOptions { Logits = LogitRows.Last };
        for (int n = prompt.Count; n < ids.Length; n++)
        {
            using var run = model.Forward(ids.AsSpan(0, n), 1, options);
            ids[n] = temperature == 0 ? TensorPrimitives.IndexOfMax<float>(run.Logits) : Sample(run.Logits, temperature, rng);
        }
        return ids[prompt.Count..];
    }

    /// <summary>
    /// <paramref name="count"/> documents sampled from the model itself, each started from
    /// <c>&lt;|endoftext|&gt;</c> and cut at the next one (or after <paramref name="length"/> tokens):
    /// a corpus anyone can reproduce from the model and a seed. Documents are sampled in batches.
    /// </summary>
    public static IEnumerable<int[]> SampleDocuments(Gpt2 model, int count, int length, float temperature, int seed, int batch = 32)
    {
        if (count <= 0) throw new RelpSaeException($"--documents must be positive, got {count}");
        if (length <= 0 || length >= model.Config.NPositions)
            throw new RelpSaeException($"--tokens must be between 1 and {model.Config.NPositions - 1} (the context less the start token), got {length}");
        if (temperature <= 0 || !float.IsFinite(temperature)) throw new RelpSaeException($"--temperature must be a finite number > 0, got {temperature}");
        var rng = new Random(seed);
        int V = model.Config.VocabSize, bos = model.Config.BosTokenId;
        for (int done = 0; done < count; done += batch)
        {
            int b = Math.Min(batch, count - done), width = length + 1;
            var ids = new int[b * width];
            for (int r = 0; r < b; r++) ids[r * width] = bos;
            for (int n = 1; n < width; n++)
            {
                var prefix = new int[b * n];
                for (int r = 0; r < b; r++) ids.AsSpan(r * width, n).CopyTo(prefix.AsSpan(r * n, n));
                using var run = model.Forward(prefix, b, new RunOptions { Logits = LogitRows.Last });
                for (int r = 0; r < b; r++) ids[r * width + n] = Sample(run.Logits.AsSpan(r * V, V).ToArray(), temperature, rng);
            }
            for (int r = 0; r < b; r++)
            {
                var doc = ids.AsSpan(r * width + 1, length).ToArray();
                int end = Array.IndexOf(doc, bos);
                yield return end < 0 ? doc : doc[..end];
            }
        }
    }

    /// <summary>The prompt with <c>&lt;|endoftext|&gt;</c> (the config's bos_token_id) in front, as TransformerLens' prepend_bos does.</summary>
    public static int[] PrependBos(Gpt2Config config, IReadOnlyList<int> ids) => [config.BosTokenId, .. ids];

    private static int Sample(float[] logits, float temperature, Random rng)
    {
        // Shifted so the largest is 0 before dividing: a tiny temperature then sends the others to −∞
        // (probability 0, greedy) instead of overflowing every logit to ±∞ and the softmax to NaN.
        TensorPrimitives.Subtract(logits, TensorPrimitives.Max<float>(logits), logits);
        TensorPrimitives.Divide(logits, temperature, logits);
        TensorPrimitives.SoftMax(logits, logits);
        double u = rng.NextDouble(), cumulative = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            cumulative += logits[i];
            if (u < cumulative) return i;
        }
        return TensorPrimitives.IndexOfMax<float>(logits); // rounding left u past the total
    }
}
