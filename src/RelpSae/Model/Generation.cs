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
    public static int[] Continue(Gpt2 model, IReadOnlyList<int> prompt, int count, float temperature = 0, int seed = 0)
    {
        if (prompt.Count == 0) throw new RelpSaeException("the prompt is empty: generation needs at least one token");
        if (count < 0) throw new RelpSaeException($"--tokens must be at least 0, got {count}");
        if (temperature < 0 || !float.IsFinite(temperature)) throw new RelpSaeException($"--temperature must be a finite number ≥ 0, got {temperature}");
        int limit = model.Config.NPositions;
        if (prompt.Count + count > limit)
            throw new RelpSaeException($"--tokens {count} after a prompt of {prompt.Count} tokens exceeds the model's context of {limit} (n_positions)");

        var rng = new Random(seed);
        var ids = new int[prompt.Count + count];
        for (int i = 0; i < prompt.Count; i++) ids[i] = prompt[i];
        var options = new RunOptions { Logits = LogitRows.Last };
        for (int n = prompt.Count; n < ids.Length; n++)
        {
            var logits = model.Forward(ids.AsSpan(0, n), 1, options).Logits;
            ids[n] = temperature == 0 ? TensorPrimitives.IndexOfMax<float>(logits) : Sample(logits, temperature, rng);
        }
        return ids[prompt.Count..];
    }

    /// <summary>The prompt with <c>&lt;|endoftext|&gt;</c> (the config's bos_token_id) in front, as TransformerLens' prepend_bos does.</summary>
    public static int[] PrependBos(Gpt2Config config, IReadOnlyList<int> ids) => [config.BosTokenId, .. ids];

    private static int Sample(float[] logits, float temperature, Random rng)
    {
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
