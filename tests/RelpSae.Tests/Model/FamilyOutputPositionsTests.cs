using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Tests.Model;

/// <summary>
/// Every family on the shared stack: a pass told which positions will be read runs its last block past attention,
/// and the final norm, on those rows alone, and its rows, metrics and backward passes (whose last block then runs
/// on the metric rows alone) are those of the full pass bit for bit. Gemma-2's capped scores take the row backward
/// through the cap's slope; GPT-NeoX's parallel blocks add attention's output after the MLP's.
/// </summary>
public class FamilyOutputPositionsTests
{
    public static TheoryData<string> Fixtures => Families.Folders();

    [Theory]
    [MemberData(nameof(Fixtures))]
    public void ReadRowsMetricsAndBackwardAreThoseOfTheFullPass(string folder)
    {
        var model = Families.Named(folder).Load();
        var f = model.Facts;
        const int batch = 2;
        int T = Math.Min(12, f.Context);
        var ids = Enumerable.Range(0, batch * T).Select(i => (i * 37 + 5) % f.VocabSize).ToArray();
        int[] positions = [4, -1];
        var metrics = positions.Select(p => new Metric(MetricKind.LogitDiff, Target: 3, Foil: 11, Position: p)).ToArray();
        using var full = model.Forward(ids, batch, new RunOptions { KeepForBackward = true, Logits = LogitRows.None });
        using var pruned = model.Forward(ids, batch, new RunOptions { KeepForBackward = true, Logits = LogitRows.None, OutputPositions = positions });
        int d = f.DModel;
        for (int b = 0; b < batch; b++)
            foreach (int p in positions)
            {
                int row = b * T + (p < 0 ? T + p : p);
                Assert.Equal(full.Final.AsSpan(row * d, d).ToArray(), pruned.Final.AsSpan(row * d, d).ToArray());
            }
        // The pruned pass computed the last block's other rows not at all: were it to read them, this would differ.
        Assert.NotEqual(full.Residual.AsSpan(T / 2 * d, d).ToArray(), pruned.Residual.AsSpan(T / 2 * d, d).ToArray());
        var hook = new HookPoint(HookKind.ResidPre, f.NLayers - 1);
        foreach (var metric in metrics)
        {
            Assert.Equal(full.MetricValues([metric]), pruned.MetricValues([metric]));
            foreach (var rules in new[] { PropagationRules.Gradient, PropagationRules.RelP, PropagationRules.AttnLrp })
                Assert.Equal(full.Backward([metric], hook, rules), pruned.Backward([metric], hook, rules));
        }
    }
}
