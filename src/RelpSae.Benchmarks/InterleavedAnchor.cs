using RelpSae.Model;
using RelpSae.Numerics;

namespace RelpSae.Benchmarks;

/// <summary>One round of an interleaved sitting: the FMA peak per thread count, our model rows, the anchor's.</summary>
public sealed record AnchorRound(int Index, bool AnchorFirst, IReadOnlyDictionary<int, double> FmaPeakGflops,
    IReadOnlyList<BenchRow> Ours, IReadOnlyList<BenchRow> Anchor);

/// <summary>
/// A model row over the rounds: our time over the anchor's in each round, and their median; its FLOPs, and
/// in each round the ratio at peak — the time those FLOPs take at that round's FMA peak over the anchor's
/// time: the lowest ratio any fp32 implementation doing this work could reach in that round.
/// </summary>
public sealed record InterleavedRow(string Workload, int Batch, int Tokens, int Threads, IReadOnlyList<double> Ratios,
    IReadOnlyList<double> OursMs, IReadOnlyList<double> AnchorMs, double Gflop, IReadOnlyList<double> PeakRatios)
{
    public double MedianRatio => Median(Ratios);
    public double MedianPeakRatio => Median(PeakRatios);
    public double MinRatio => Ratios.Min();
    public double MaxRatio => Ratios.Max();

    internal static double Median(IReadOnlyList<double> values)
    {
        var sorted = values.Order().ToArray();
        int n = sorted.Length;
        return n % 2 == 1 ? sorted[n / 2] : 0.5 * (sorted[n / 2 - 1] + sorted[n / 2]);
    }
}

/// <summary>
/// A measurement that survives the machine's drift (its speed moves by up to 2× between minutes):
/// short rounds of the libtorch anchor and of our model workloads alternate in one sitting (the order
/// flips every round), and each row is judged by its per-round ratios, never by times from different
/// minutes. Our backward workloads are compared with the anchor's exact forward+backward (slim head).
/// </summary>
public static class InterleavedAnchor
{
    public static (IReadOnlyList<AnchorRound> Rounds, IReadOnlyList<InterleavedRow> Rows) Run(string kitDir, int rounds,
        IReadOnlyList<int> threadCounts, int warmup, int reps, Action<AnchorRound>? finished = null)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(rounds, 1);
        AnchorKit.RunScript(kitDir);   // before the model is built
        var model = new Gpt2(Gpt2Weights.Random(ModelBenchmark.Gpt2Small, seed: 0));
        var all = new List<AnchorRound>();
        for (int r = 0; r < rounds; r++)
        {
            bool anchorFirst = r % 2 == 0;
            IReadOnlyList<BenchRow> anchor = anchorFirst ? AnchorKit.Run(kitDir, reps, warmup, threadCounts) : [];
            var (peaks, ours) = Ours(model, threadCounts, warmup, reps);
            if (!anchorFirst) anchor = AnchorKit.Run(kitDir, reps, warmup, threadCounts);
            var round = new AnchorRound(r + 1, anchorFirst, peaks, ours, anchor);
            all.Add(round);
            finished?.Invoke(round);
        }
        return (all, Summarise(all));
    }

    private static (Dictionary<int, double>, List<BenchRow>) Ours(Gpt2 model, IReadOnlyList<int> threadCounts, int warmup, int reps)
    {
        var peaks = new Dictionary<int, double>();
        var rows = new List<BenchRow>();
        int saved = Threads.Count;
        try
        {
            foreach (int t in threadCounts)
            {
                Threads.Count = t;
                double peak = peaks[t] = FmaPeak.MeasureGflops(t, TimeSpan.FromMilliseconds(500));
                rows.AddRange(ModelBenchmark.Run(model, t, warmup, reps).Select(row => row with { PeakGflops = peak }));
            }
        }
        finally { Threads.Count = saved; }
        return (peaks, rows);
    }

    internal static List<InterleavedRow> Summarise(IReadOnlyList<AnchorRound> rounds)
    {
        var rows = new List<InterleavedRow>();
        foreach (var row in rounds[0].Ours)
        {
            string anchorWorkload = row.Workload == "forward" ? "forward" : "backward_exact";
            var pairs = rounds.Select(round => (
                Ours: round.Ours.Single(x => x.Workload == row.Workload && x.Batch == row.Batch && x.Tokens == row.Tokens && x.Threads == row.Threads),
                Anchor: round.Anchor.FirstOrDefault(x => x.Workload == anchorWorkload && x.Batch == row.Batch && x.Tokens == row.Tokens && x.Threads == row.Threads)?.Ms))
                .Where(p => p.Anchor is > 0).ToList();
            if (pairs.Count == 0) continue;
            rows.Add(new InterleavedRow(row.Workload, row.Batch, row.Tokens, row.Threads,
                [.. pairs.Select(p => p.Ours.Ms / p.Anchor!.Value)], [.. pairs.Select(p => p.Ours.Ms)], [.. pairs.Select(p => p.Anchor!.Value)],
                row.Gflop, [.. pairs.Select(p => p.Ours.MsAtPeak / p.Anchor!.Value)]));
        }
        return rows;
    }
}
