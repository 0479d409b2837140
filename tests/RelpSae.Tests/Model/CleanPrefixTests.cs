using RelpSae.Model;

namespace RelpSae.Tests.Model;

/// <summary>
/// A pass that reuses a clean run's rows before its first changed one (<see cref="CleanPrefix"/>) gives
/// what the full pass gives, and only because those rows really do not change: on every family's fixtures
/// (<see cref="Families"/>), restarting at block 0's resid_mid where there is one (so the first block runs its
/// MLP only), at block 1's resid_pre where attention and MLP run in parallel (GPT-NeoX).
/// </summary>
public class CleanPrefixTests
{
    private const int T = 8, Batch = 3;
    private static readonly Metric Last = new(MetricKind.LogitDiff, Target: 3, Foil: 11);

    public static TheoryData<string> Models => Families.Folders();

    private static (ITransformer Model, HookPoint Start) Load(string name)
    {
        var model = Families.Named(name).Load();
        var mid = new HookPoint(HookKind.ResidMid, 0);
        return (model, model.Facts.IsResidual(mid) ? mid : new HookPoint(HookKind.ResidPre, 1));
    }

    /// <summary>
    /// The clean activation at <paramref name="start"/> [T × d], its kept pass, and a batch that changes row
    /// <paramref name="first"/> of each sequence and (unless <paramref name="onlyFirst"/>) some rows after it.
    /// </summary>
    private static (ITransformerRun Clean, float[] Batch) Setup(ITransformer model, HookPoint start, int first, bool onlyFirst = false)
    {
        int d = model.Facts.DModel;
        var x = model.ActivationAt(start, TinyModels.Tokens(1, T), 1);
        var clean = model.ForwardFrom(start, x, 1, T, new RunOptions { KeepForBackward = true, Logits = LogitRows.None });
        var rng = new Random(first);
        var batch = new float[Batch * T * d];
        for (int b = 0; b < Batch; b++)
        {
            x.CopyTo(batch, b * T * d);
            for (int t = first; t < T; t++)
                for (int j = 0; j < d; j++)
                    if (t == first || (!onlyFirst && rng.Next(2) == 0)) batch[(b * T + t) * d + j] += 2 * (float)(rng.NextDouble() - 0.5);
        }
        return (clean, batch);
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void EveryFirstRowGivesTheFullPassesRowsLogitsAndMetrics(string name)
    {
        var (model, start) = Load(name);
        int d = model.Facts.DModel, V = model.Facts.VocabSize;
        for (int first = 0; first < T; first++)
        {
            var (clean, batch) = Setup(model, start, first);
            using var full = model.ForwardFrom(start, batch, Batch, T, new RunOptions { Logits = LogitRows.All });
            using var reused = model.ForwardFrom(start, batch, Batch, T, new RunOptions { Logits = LogitRows.All, Prefix = new CleanPrefix(clean, first) });
            Assert.Equal(Batch * (T - first), reused.Rows);
            for (int b = 0; b < Batch; b++)
                for (int t = first; t < T; t++)
                {
                    int row = b * T + t, computed = b * (T - first) + t - first;
                    AssertSame(full.Final.AsSpan(row * d, d), reused.Final.AsSpan(computed * d, d));
                    AssertSame(full.Logits.AsSpan(row * V, V), reused.Logits.AsSpan(computed * V, V));
                }
            // Metrics at the last position and at one before the first changed row (the clean run's there).
            foreach (var metric in new[] { Last, Last with { Position = Math.Max(0, first - 1) } })
                AssertSame(full.MetricValues(metric).Select(v => (float)v).ToArray(), reused.MetricValues(metric).Select(v => (float)v).ToArray());
            clean.Dispose();
        }
    }

    /// <summary>A change at row 0 reaches the last row, and claiming it one row later (reusing a row that did change) is caught.</summary>
    [Theory]
    [MemberData(nameof(Models))]
    public void ReusingARowThatChangedGivesAnotherResult(string name)
    {
        var (model, start) = Load(name);
        for (int first = 0; first < T - 1; first++)
        {
            var (clean, batch) = Setup(model, start, first, onlyFirst: true);
            using var full = model.ForwardFrom(start, batch, Batch, T, new RunOptions { Logits = LogitRows.None });
            using var wrong = model.ForwardFrom(start, batch, Batch, T, new RunOptions { Logits = LogitRows.None, Prefix = new CleanPrefix(clean, first + 1) });
            int d = model.Facts.DModel, computed = T - first - 1;
            for (int b = 0; b < Batch; b++)
            {
                var truth = full.Final.AsSpan(((b + 1) * T - 1) * d, d);
                var cleanRow = clean.Final.AsSpan((T - 1) * d, d);
                var reused = wrong.Final.AsSpan(((b + 1) * computed - 1) * d, d);
                Assert.True(MaxDifference(truth, cleanRow) > 1e-4, $"a change at row {first} did not reach the last row");
                Assert.True(MaxDifference(truth, reused) > 1e-4, $"reusing changed row {first} went unnoticed");
            }
            clean.Dispose();
        }
    }

    [Theory]
    [MemberData(nameof(Models))]
    public void PatchesOfComputedRowsApplyAndPatchesInThePrefixAreRefused(string name)
    {
        var (model, start) = Load(name);
        int d = model.Facts.DModel, first = 3;
        var (clean, batch) = Setup(model, start, first);
        var values = Enumerable.Range(0, d).Select(j => 0.1f * j).ToArray();
        var patches = new[] { new ActivationPatch(new HookPoint(HookKind.MlpOut, 1), 1 * T + 5, 0, values) };
        using var full = model.ForwardFrom(start, batch, Batch, T, new RunOptions { Logits = LogitRows.None, Patches = patches });
        using var reused = model.ForwardFrom(start, batch, Batch, T, new RunOptions { Logits = LogitRows.None, Patches = patches, Prefix = new CleanPrefix(clean, first) });
        AssertSame(full.MetricValues(Last).Select(v => (float)v).ToArray(), reused.MetricValues(Last).Select(v => (float)v).ToArray());
        var early = new[] { new ActivationPatch(new HookPoint(HookKind.MlpOut, 1), 1 * T + 2, 0, values) };
        Assert.Throws<ArgumentException>(() => model.ForwardFrom(start, batch, Batch, T, new RunOptions { Patches = early, Prefix = new CleanPrefix(clean, first) }));
        clean.Dispose();
    }

    private static float MaxDifference(ReadOnlySpan<float> a, ReadOnlySpan<float> b)
    {
        float max = 0;
        for (int i = 0; i < a.Length; i++) max = Math.Max(max, Math.Abs(a[i] - b[i]));
        return max;
    }

    /// <summary>Bit for bit: the prefix pass runs attention on the full pass's shapes (<see cref="CleanPrefixAttention"/>).</summary>
    private static void AssertSame(ReadOnlySpan<float> expected, ReadOnlySpan<float> actual)
    {
        for (int i = 0; i < expected.Length; i++)
            Assert.True(expected[i] == actual[i], $"[{i}]: {actual[i]} vs {expected[i]}");
    }
}
