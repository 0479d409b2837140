using System.Diagnostics;
using RelpSae.Model;
using RelpSae.Numerics;

namespace RelpSae.Benchmarks;

/// <summary>What <c>relp-sae bench</c> measured: the FMA peak and the read bandwidth per thread count, every timed row, peak memory (0: not measured).</summary>
public sealed record BenchReport(IReadOnlyDictionary<int, double> FmaPeakGflops, IReadOnlyDictionary<int, double> ReadGBps, IReadOnlyList<BenchRow> Rows,
    long ForwardPeakRssBytes);

/// <summary>The groups of workloads <c>bench --only</c> selects; <see cref="Real"/> needs a model folder.</summary>
public enum BenchGroup { Model, Gemm, Attribution, Sae, Families, Real }

/// <summary>
/// Every benchmark of issue 8 in one sitting: the FMA peak, the GEMM on 1024³ and on GPT-2's shapes,
/// the libtorch anchor's model workloads (and the peak resident memory of a GPT-2-small forward at
/// 1×1024), attribution costs, SAE throughputs, and the Llama- and Pythia-shaped forward and RelP passes
/// (<see cref="FamilyBenchmark"/>), a real model's passes at its own shape (<see cref="RealShapeBenchmark"/>); or only the groups asked for.
/// Each thread count starts with its two floors: the FMA peak and the memory read bandwidth.
/// </summary>
public static class BenchSuite
{
    /// <summary>A product timed alone; GPT-2's use B packed beforehand, as the model's weights are.</summary>
    public sealed record GemmShape(string Name, int M, int N, int K, bool TransB, bool Prepacked);

    public static readonly GemmShape[] GemmShapes =
    [
        new("1024³ (B packed per call)", 1024, 1024, 1024, false, false),
        new("qkv 128×2304×768", 128, 2304, 768, false, true),
        new("mlp in 128×3072×768", 128, 3072, 768, false, true),
        new("mlp out 128×768×3072", 128, 768, 3072, false, true),
        new("logits 128×50257×768 (A·Bᵀ)", 128, 50257, 768, true, true),
        new("mlp in backward 128×768×3072 (A·Bᵀ)", 128, 768, 3072, true, true),
    ];

    /// <summary>
    /// Runs the <paramref name="groups"/> (<see cref="BenchGroup.Real"/> on <paramref name="real"/>); <paramref name="measured"/> sees
    /// each row as it is measured.
    /// </summary>
    public static BenchReport Run(IReadOnlyList<int> threadCounts, int warmup, int reps, IReadOnlySet<BenchGroup> groups, Action<BenchRow>? measured = null,
        ITransformer? real = null)
    {
        if (groups.Contains(BenchGroup.Real) && real is null) throw new ArgumentNullException(nameof(real), "the real-shape rows need a model");
        var gpt2 = new Lazy<Gpt2>(() => new Gpt2(Gpt2Weights.Random(ModelBenchmark.Gpt2Small, seed: 0)));
        // First, before any other workload raises the process's high-water mark.
        long rss = groups.Contains(BenchGroup.Model) ? ForwardPeakRss(gpt2.Value) : 0;
        var peaks = new Dictionary<int, double>();
        var bandwidths = new Dictionary<int, double>();
        var rows = new List<BenchRow>();
        void Add(BenchRow row) { rows.Add(row); measured?.Invoke(row); }
        var families = groups.Contains(BenchGroup.Families) ? FamilyBenchmark.Models().ToList() : [];
        int saved = Threads.Count;
        try
        {
            foreach (int t in threadCounts)
            {
                Threads.Count = t;
                double peak = peaks[t] = FmaPeak.MeasureGflops(t, TimeSpan.FromSeconds(1));
                double read = bandwidths[t] = ReadBandwidth.MeasureGBps(t);
                Add(new BenchRow("fma_peak", 0, 0, t, 0) { PeakGflops = peak, ReadGBps = read });
                if (groups.Contains(BenchGroup.Gemm)) foreach (var row in Gemms(t, reps)) Add(row with { PeakGflops = peak });
                if (groups.Contains(BenchGroup.Model)) foreach (var row in ModelBenchmark.Run(gpt2.Value, t, warmup, reps)) Add(row with { PeakGflops = peak });
                if (groups.Contains(BenchGroup.Attribution)) foreach (var row in AttributionBenchmark.Run(gpt2.Value, t, warmup, reps)) Add(row with { PeakGflops = peak });
                if (groups.Contains(BenchGroup.Sae)) foreach (var row in SaeBenchmark.Run(gpt2.Value, t, warmup, reps)) Add(row with { PeakGflops = peak });
                foreach (var (name, family) in families)
                    foreach (var row in FamilyBenchmark.Run(name, family, t, warmup, reps)) Add(row with { PeakGflops = peak });
                if (groups.Contains(BenchGroup.Real)) foreach (var row in RealShapeBenchmark.Run(real!, t, warmup, reps)) Add(row with { PeakGflops = peak, ReadGBps = read });
            }
        }
        finally { Threads.Count = saved; }
        return new BenchReport(peaks, bandwidths, rows, rss);
    }

    private static IEnumerable<BenchRow> Gemms(int threads, int reps)
    {
        foreach (var s in GemmShapes)
        {
            double gflops = GemmBenchmark.MeasureGflops(s.M, s.N, s.K, threads, transB: s.TransB, reps: Math.Max(reps, 5), prepackB: s.Prepacked);
            double gflop = 2.0 * s.M * s.N * s.K / 1e9;
            yield return new BenchRow($"gemm {s.Name}", s.M, s.N, threads, gflop / gflops * 1000) { Gflop = gflop };
        }
    }

    /// <summary>Peak resident bytes of the process after loading the weights and one forward to full logits at 1×1024.</summary>
    private static long ForwardPeakRss(Gpt2 model)
    {
        var ids = Enumerable.Range(0, 1024).Select(i => i * 7 % model.Config.VocabSize).ToArray();
        model.Forward(ids, 1, new RunOptions { Logits = LogitRows.All }).Dispose();
        using var self = Process.GetCurrentProcess();
        self.Refresh();
        return self.PeakWorkingSet64;
    }
}
