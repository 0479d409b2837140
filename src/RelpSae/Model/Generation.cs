using System.Numerics.Tensors;
using RelpSae.Sae;

namespace RelpSae.Model;

/// <summary>
/// Autoregressive continuation of a prompt: greedy at temperature 0, otherwise sampled from
/// softmax(logits / temperature) with a seeded generator. Each step re-runs the prompt so far and
/// computes only the last position's logits (the contexts here are short; no KV cache).
/// Sampling works in double from the float logits, in a fixed order, so the only thing an engine change
/// can move is the logits' last bits: a token flips only where the uniform draw lands within that
/// rounding of a cumulative boundary.
/// </summary>
public static class Generation
{
    /// <summary>
    /// The <paramref name="count"/> token ids that follow <paramref name="prompt"/> (the prompt excluded), each step's pass under
    /// <paramref name="rewrite"/> when one is given (feature interventions: at every position, generated ones included).
    /// </summary>
    public static int[] Continue(ITransformer model, IReadOnlyList<int> prompt, int count, float temperature = 0, int seed = 0, IActivationRewrite? rewrite = null)
    {
        if (prompt.Count == 0) throw new RelpSaeException("the prompt is empty: generation needs at least one token");
        if (count < 0) throw new SettingException(name => $"{name(Setting.TokenCount)} must be at least 0, got {count}");
        if (temperature < 0 || !float.IsFinite(temperature)) throw new SettingException(name => $"{name(Setting.Temperature)} must be a finite number ≥ 0, got {temperature}");
        int limit = model.Facts.Context;
        if (count > limit - prompt.Count)
            throw new SettingException(name => $"{name(Setting.TokenCount)} {count} after a prompt of {prompt.Count} tokens exceeds the model's context of {limit} ({model.Facts.ContextKey})");

        var rng = new DeterministicRandom((ulong)(uint)seed);
        var ids = new int[prompt.Count + count];
        for (int i = 0; i < prompt.Count; i++) ids[i] = prompt[i];
        var options = new RunOptions { Logits = LogitRows.Last, Rewrite = rewrite };
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
    /// a corpus anyone can reproduce from the model and a seed. Documents are sampled in batches, each
    /// from its own generator seeded by (seed, document index): document i is the same whatever the
    /// count, and a token flipped by engine rounding changes the rest of one document, not all later ones.
    /// </summary>
    public static IEnumerable<int[]> SampleDocuments(ITransformer model, int count, int length, float temperature, int seed, int batch = 32)
    {
        if (count <= 0) throw new SettingException(name => $"{name(Setting.DocumentCount)} must be positive, got {count}");
        if (length <= 0 || length >= model.Facts.Context)
            throw new SettingException(name => $"{name(Setting.TokenCount)} must be between 1 and {model.Facts.Context - 1} (the context less the start token), got {length}");
        if (temperature <= 0 || !float.IsFinite(temperature)) throw new SettingException(name => $"{name(Setting.Temperature)} must be a finite number > 0, got {temperature}");
        int V = model.Facts.VocabSize, bos = model.Facts.BosTokenId;
        for (int done = 0; done < count; done += batch)
        {
            int b = Math.Min(batch, count - done), width = length + 1;
            var ids = new int[b * width];
            var rngs = new DeterministicRandom[b];
            for (int r = 0; r < b; r++)
            {
                ids[r * width] = bos;
                rngs[r] = new DeterministicRandom(((ulong)(uint)seed << 32) | (uint)(done + r));
            }
            for (int n = 1; n < width; n++)
            {
                var prefix = new int[b * n];
                for (int r = 0; r < b; r++) ids.AsSpan(r * width, n).CopyTo(prefix.AsSpan(r * n, n));
                using var run = model.Forward(prefix, b, new RunOptions { Logits = LogitRows.Last });
                for (int r = 0; r < b; r++) ids[r * width + n] = Sample(run.Logits.AsSpan(r * V, V), temperature, rngs[r]);
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
    public static int[] PrependBos(ModelFacts facts, IReadOnlyList<int> ids) => [facts.BosTokenId, .. ids];

    /// <summary>Inverse-CDF draw from softmax(logits / temperature), summed in double in index order.</summary>
    private static int Sample(ReadOnlySpan<float> logits, float temperature, DeterministicRandom rng)
    {
        double max = TensorPrimitives.Max(logits), total = 0;
        foreach (float l in logits) total += Math.Exp((l - max) / temperature);
        double target = rng.NextDouble() * total, cumulative = 0;
        for (int i = 0; i < logits.Length; i++)
        {
            cumulative += Math.Exp((logits[i] - max) / temperature);
            if (target < cumulative) return i;
        }
        return TensorPrimitives.IndexOfMax(logits); // rounding left the target past the total
    }
}
