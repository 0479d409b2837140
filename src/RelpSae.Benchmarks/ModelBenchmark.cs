using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Benchmarks;

/// <summary>
/// The libtorch anchor's workloads (../shared/anchors/libtorch-cpu) on a GPT-2-small-shaped model with
/// random weights: forward to full logits, and forward + backward of one last-position logit to
/// blocks.6.hook_resid_pre (the forward told that only the metric's rows are read), exact and with the relp rules (the same products: relp keeps the exact attention
/// gradient on GPT-2). Every row counts its FLOPs (<see cref="FlopCounts"/>).
/// </summary>
public static class ModelBenchmark
{
    public static readonly Gpt2Config Gpt2Small = new(VocabSize: 50257, NPositions: 1024, DModel: 768, NLayers: 12, NHeads: 12,
        DMlp: 3072, LayerNormEps: 1e-5f, Activation: "gelu_new", BosTokenId: 50256);

    public static readonly (int Batch, int Tokens)[] Shapes = [(1, 32), (1, 128), (1, 512), (8, 128)];

    public const int Target = 4242;

    public static IEnumerable<BenchRow> Run(Gpt2 model, int threads, int warmup, int reps)
    {
        var hook = model.Facts.ParseHook("blocks.6.hook_resid_pre");
        var metric = new Metric(MetricKind.Logit, Target);
        foreach (var (batch, tokens) in Shapes)
        {
            var rng = new Random(batch * 1000 + tokens);
            var ids = Enumerable.Range(0, batch * tokens).Select(_ => rng.Next(model.Config.VocabSize)).ToArray();
            yield return new BenchRow("forward", batch, tokens, threads,
                Timing.MedianMs(() => model.Forward(ids, batch, new RunOptions { Logits = LogitRows.All }).Dispose(), warmup, reps))
            { Gflop = FlopCounts.Gpt2Forward(model.Config, batch, tokens, model.Config.NLayers, batch * tokens) / 1e9 };
            foreach (var (name, rules) in new[] { ("backward_exact", PropagationRules.Gradient), ("backward_relp", PropagationRules.RelP) })
                yield return new BenchRow(name, batch, tokens, threads, Timing.MedianMs(() =>
                {
                    using var run = model.Forward(ids, batch, new RunOptions { KeepForBackward = true, Logits = LogitRows.None, OutputPositions = [metric.Position] });
                    run.Backward(metric, hook, rules);
                }, warmup, reps))
                { Gflop = FlopCounts.Gpt2ForwardBackward(model.Config, batch, tokens, hook.Layer) / 1e9 };
        }
    }
}
