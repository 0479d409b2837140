using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Benchmarks;

/// <summary>
/// Throughput of SAE work on a GPT-2-small-shaped model: caching the activations at blocks.6.hook_resid_pre
/// (8×128 tokens), and one training step of a 768 → 3072 SAE on 4096 rows for each architecture.
/// </summary>
public static class SaeBenchmark
{
    public const int Rows = 4096;
    public const int K = 32;

    public static IEnumerable<BenchRow> Run(Gpt2 model, int threads, int warmup, int reps)
    {
        var hook = model.Facts.ParseHook("blocks.6.hook_resid_pre");
        var contexts = Enumerable.Range(0, 8 * 128).Select(i => i * 13 % model.Config.VocabSize).ToArray();
        yield return new BenchRow("activation_cache_layer6", 8, 128, threads, Timing.MedianMs(() => model.ActivationAt(hook, contexts, 8), warmup, reps))
        { Gflop = FlopCounts.Gpt2Forward(model.Config, 8, 128, hook.Layer, 0) / 1e9 };

        int d = model.Config.DModel, s = 4 * d;
        foreach (var architecture in new[] { SaeArchitecture.TopK, SaeArchitecture.Standard, SaeArchitecture.JumpRelu })
        {
            var trainer = SaeTrainer.Start(new SaeTrainingOptions { DSae = s, TotalSteps = 1000, BatchSize = Rows, Architecture = architecture, K = K },
                new RandomRows(d));
            yield return new BenchRow($"sae_train_step_{Name(architecture)}", Rows, 1, threads, Timing.MedianMs(() => trainer.TrainStep(), warmup, reps))
            { Gflop = FlopCounts.SaeTrainStep(Rows, d, s, architecture == SaeArchitecture.TopK && K <= SaeObjective.SparseDensity * s ? K : 0) / 1e9 };
        }
    }

    private static string Name(SaeArchitecture architecture) => architecture switch
    {
        SaeArchitecture.Standard => "relu",
        _ => architecture.ToString().ToLowerInvariant(),
    };

    /// <summary>
    /// Uniform random activation rows, seekable (the trainer's contract), drawn once into a pool that
    /// is then replayed: reading costs a copy, as reading a cache does, not the random numbers.
    /// </summary>
    private sealed class RandomRows : IActivationSource
    {
        private const int PoolRows = 2 * Rows + 1;
        private readonly float[] _pool;

        public RandomRows(int dIn)
        {
            DIn = dIn;
            var rng = new Random(1);
            _pool = new float[PoolRows * dIn];
            for (int i = 0; i < _pool.Length; i++) _pool[i] = rng.NextSingle() * 2 - 1;
        }

        public int DIn { get; }
        public long Position { get; private set; }

        public int Read(Span<float> rows)
        {
            int n = rows.Length / DIn;
            for (int r = 0; r < n; r++)
                _pool.AsSpan((int)((Position + r) % PoolRows) * DIn, DIn).CopyTo(rows.Slice(r * DIn, DIn));
            Position += n;
            return n;
        }

        public void Seek(long position) => Position = position;
    }
}
