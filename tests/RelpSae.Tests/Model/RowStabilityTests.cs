using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Tests.Model;

/// <summary>
/// A sequence's results do not depend on the batch it is computed in, to the last bit: alone, at another
/// position of a batch, in batches of other sizes, and through a pass that reuses a clean prefix
/// (<see cref="CleanPrefix"/>) it gets the same logits, hook activations and gradients. Ground truth
/// relies on it: a patch too small to move the residual must give an effect of exactly 0, and a pass on
/// another shape must not turn that into rounding noise. On every family's fixtures (<see cref="Families"/>).
/// </summary>
public class RowStabilityTests
{
    private const int T = 16;
    private static readonly Metric LogitDiff = new(MetricKind.LogitDiff, Target: 3, Foil: 11);

    public static TheoryData<string> Models => Families.Folders();

    /// <summary>Every hook of every block, the final norm's output, with the logits at every row.</summary>
    private static RunOptions Everything(ITransformer model, bool keep = false) => new()
    {
        Cache = model.Facts.HookPoints().Where(h => h.Kind != HookKind.PosEmbed && h.Kind != HookKind.Embed).ToArray(),
        Logits = LogitRows.All,
        KeepForBackward = keep,
    };

    /// <summary>The sequence [T] at <paramref name="at"/> of <paramref name="size"/> sequences, the others random.</summary>
    private static int[] Batch(int[] sequence, int size, int at, int vocab)
    {
        var rng = new Random(size * 31 + at);
        var tokens = Enumerable.Range(0, size * T).Select(_ => rng.Next(vocab)).ToArray();
        sequence.CopyTo(tokens, at * T);
        return tokens;
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void ASequenceGetsTheSameBitsAtAnyPositionOfABatchOfAnySize(string name)
    {
        var model = Families.Named(name).Load();
        int V = model.Facts.VocabSize, d = model.Facts.DModel;
        var sequence = RandomTokens(seed: 5, V);
        var start = new HookPoint(HookKind.ResidPre, 0);
        using var alone = model.Forward(sequence, 1, Everything(model, keep: true));
        var gradients = new[] { PropagationRules.Gradient, PropagationRules.RelP }.Select(r => alone.Backward([LogitDiff], start, r)).ToArray();
        foreach (var (size, at) in new[] { (2, 0), (3, 1), (5, 4), (7, 3) })
        {
            using var batch = model.Forward(Batch(sequence, size, at, V), size, Everything(model, keep: true));
            string where = $"{name}, sequence {at} of {size}";
            AssertSameSequence(alone, batch, at, where);
            var rules = new[] { PropagationRules.Gradient, PropagationRules.RelP };
            for (int i = 0; i < rules.Length; i++)
                AssertBits(gradients[i], batch.Backward([LogitDiff], start, rules[i]).AsSpan(at * T * d, T * d), $"{where}: gradient at {start} ({i})");
        }
    }

    /// <summary>
    /// Each model at 16 tokens reusing 8; at 13 reusing 8 (5 computed rows: attention's products on fewer
    /// rows than their kernels' thresholds); stories260K also at 64 reusing 56 (64 rows against 8).
    /// </summary>
    public static TheoryData<string, int, int> Prefixes()
    {
        var data = new TheoryData<string, int, int>();
        foreach (var name in Families.All.Select(f => f.Folder))
        {
            data.Add(name, 16, 8);
            data.Add(name, 13, 8);
        }
        data.Add("stories260K-llama", 64, 56);
        return data;
    }

    [Theory]
    [MemberData(nameof(Prefixes))]
    public void APassReusingACleanPrefixGetsTheFullPassesBits(string name, int tokens, int reused)
    {
        var model = Families.Named(name).Load();
        int V = model.Facts.VocabSize, d = model.Facts.DModel, computed = tokens - reused;
        var start = new HookPoint(HookKind.ResidPre, 0);
        var x = model.ActivationAt(start, RandomTokens(seed: 6, V, tokens), 1);
        using var clean = model.ForwardFrom(start, x, 1, tokens, Everything(model, keep: true));
        // Three sequences that change rows from the reused ones on (the first of them not at all).
        const int Size = 3;
        var rng = new Random(7);
        var batch = new float[Size * tokens * d];
        for (int b = 0; b < Size; b++)
        {
            x.CopyTo(batch, b * tokens * d);
            for (int i = (b * tokens + reused) * d; b > 0 && i < (b + 1) * tokens * d; i++) batch[i] += rng.Next(3) == 0 ? (float)(rng.NextDouble() - 0.5) : 0;
        }
        using var full = model.ForwardFrom(start, batch, Size, tokens, Everything(model));
        using var prefix = model.ForwardFrom(start, batch, Size, tokens, Everything(model) with { Prefix = new CleanPrefix(clean, reused) });
        AssertSameSequence(clean, full, 0, $"{name}: the unchanged sequence");
        // Every activation is [sequences × tokens × width] (the pattern [sequences·heads × tokens × tokens]);
        // the prefix pass's holds the computed rows of each, [sequences × computed × width].
        foreach (var hook in Everything(model).Cache.Append(new HookPoint(HookKind.LnFinal, model.Facts.NLayers)))
        {
            var all = full.Cached(hook);
            int blocks = hook.Kind == HookKind.AttnPattern ? Size * model.Facts.NHeads : Size, w = all.Length / (blocks * tokens);
            for (int b = 0; b < blocks; b++)
                AssertBits(all.AsSpan((b * tokens + reused) * w, computed * w), prefix.Cached(hook).AsSpan(b * computed * w, computed * w),
                    $"{name}: {hook.Name} of block {b}");
        }
        for (int b = 0; b < Size; b++)
            AssertBits(full.Logits.AsSpan((b * tokens + reused) * V, computed * V), prefix.Logits.AsSpan(b * computed * V, computed * V), $"{name}: logits of sequence {b}");
        var metrics = full.MetricValues(LogitDiff);
        Assert.Equal(metrics, prefix.MetricValues(LogitDiff));
        Assert.Equal(clean.MetricValues(LogitDiff)[0], metrics[0]);
    }

    private static int[] RandomTokens(int seed, int vocab, int tokens = T)
    {
        var rng = new Random(seed);
        return Enumerable.Range(0, tokens).Select(_ => rng.Next(vocab)).ToArray();
    }

    /// <summary>Sequence <paramref name="at"/> of <paramref name="batch"/> has the one-sequence run's bits at every hook and logit.</summary>
    private static void AssertSameSequence(ITransformerRun alone, ITransformerRun batch, int at, string where)
    {
        foreach (var (hook, values) in alone.Cache)
        {
            var inBatch = batch.Cache[hook];
            AssertBits(values, inBatch.AsSpan(at * values.Length, values.Length), $"{where}: {hook}");
        }
        int V = alone.Logits.Length;
        AssertBits(alone.Logits, batch.Logits.AsSpan(at * V, V), $"{where}: logits");
    }

    private static void AssertBits(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        int differing = 0, first = -1;
        for (int i = 0; i < expected.Length; i++)
            if (BitConverter.SingleToInt32Bits(expected[i]) != BitConverter.SingleToInt32Bits(actual[i]) && differing++ == 0) first = i;
        Assert.True(differing == 0, $"{what}: {differing} of {expected.Length} values differ in their bits, first [{first}]: {(first < 0 ? 0 : actual[first]):R} vs {(first < 0 ? 0 : expected[first]):R}");
    }
}
