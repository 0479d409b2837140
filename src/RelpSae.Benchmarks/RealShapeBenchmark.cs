using RelpSae.Lrp;
using RelpSae.Model;
using RelpSae.Numerics;

namespace RelpSae.Benchmarks;

/// <summary>
/// A real model's passes at its own shape, with the two floors of the same sitting beside them: the forward from
/// token ids to the last position's logit, and the RelP pass (the forward keeping activations, told that only the
/// last row is read, then the relp rules' backward of one last-position logit to the middle block's
/// hook_resid_pre), at 1×32 and 1×128 tokens; and the one-row products a pass runs, which only the weights' stream
/// bounds: the head's, and a block's backward. Each row carries its FLOPs (<see cref="FlopCounts"/>) and the bytes
/// of weights it streams (<see cref="StreamedWeights"/>). Families whose blocks hold Llama's seven maps only
/// (Llama, Qwen2, Qwen3, Mistral, Gemma-2, Gemma 3).
/// </summary>
public static class RealShapeBenchmark
{
    public static readonly (int Batch, int Tokens)[] Shapes = [(1, 32), (1, 128)];

    public static IEnumerable<BenchRow> Run(ITransformer model, int threads, int warmup, int reps)
    {
        var weights = StreamedWeights.Of(model);
        var f = model.Facts;
        var hook = new HookPoint(HookKind.ResidPre, f.NLayers / 2);
        var metric = new Metric(MetricKind.Logit, ModelBenchmark.Target % f.VocabSize);
        string held = weights.Element switch { PanelElement.BFloat16 => "bf16", PanelElement.Float16 => "f16", _ => "f32" };
        foreach (var (batch, tokens) in Shapes)
        {
            var rng = new Random(batch * 1000 + tokens);
            var ids = Enumerable.Range(0, batch * tokens).Select(_ => rng.Next(f.VocabSize)).ToArray();
            var last = new RunOptions { Logits = LogitRows.Last, OutputPositions = [metric.Position] };
            yield return new BenchRow($"real forward {held}", batch, tokens, threads,
                Timing.MedianMs(() => model.Forward(ids, batch, last).Dispose(), warmup, reps))
            { Gflop = weights.ForwardGflop(batch, tokens), StreamBytes = weights.ForwardBytes };
            var keep = new RunOptions { KeepForBackward = true, Logits = LogitRows.None, OutputPositions = [metric.Position] };
            yield return new BenchRow($"real relp {held}", batch, tokens, threads, Timing.MedianMs(() =>
            {
                using var run = model.Forward(ids, batch, keep);
                run.Backward(metric, hook, PropagationRules.RelP);
            }, warmup, reps))
            { Gflop = weights.RelPGflop(batch, tokens, hook.Layer), StreamBytes = weights.RelPBytes(hook.Layer) };
        }
        // The products of one row, which only the weights' stream bounds: the head's for the last logit, and a block's
        // backward (dy·Wᵀ through each of its maps) on the metric row, as the last block runs it.
        var x = Enumerable.Range(0, f.DModel).Select(i => (float)Math.Sin(i)).ToArray();
        var logits = new float[weights.Head.Outputs];
        yield return new BenchRow($"real head 1 row {held}", 1, 1, threads, PerCallMs(() => weights.Head.Apply(x, 1, logits, logits.Length), warmup, reps))
        { Gflop = 2.0 * weights.Head.Inputs * weights.Head.Outputs / 1e9, StreamBytes = weights.Head.WeightBytes };
        var block = StreamedWeights.Maps(weights.LastBlock);
        var dy = Enumerable.Range(0, block.Max(m => m.Outputs)).Select(i => (float)Math.Cos(i)).ToArray();
        var dx = new float[block.Max(m => m.Inputs)];
        yield return new BenchRow($"real block backward 1 row {held}", 1, 1, threads, PerCallMs(() =>
        {
            foreach (var map in block) map.Transpose(dy, map.Outputs, 1, dx.AsSpan(0, map.Inputs), accumulate: false);
        }, warmup, reps))
        { Gflop = block.Sum(m => 2.0 * m.Inputs * m.Outputs) / 1e9, StreamBytes = block.Sum(m => m.WeightBytes) };
    }

    /// <summary>
    /// Calls per timed repetition of a one-row product: it takes milliseconds (its weights are far larger than the
    /// caches, so every call streams them again), and on a shared machine a median of three single calls moved by a
    /// fifth between sittings minutes apart (the head's: 36 and 43 ms); a repetition's time is the mean of these calls.
    /// </summary>
    private const int OneRowCalls = 16;

    private static double PerCallMs(Action product, int warmup, int reps) =>
        Timing.MedianMs(() => { for (int i = 0; i < OneRowCalls; i++) product(); }, warmup, reps) / OneRowCalls;
}

/// <summary>
/// The packed weights a model's passes read, block by block, and what reading them costs: each map's held bytes
/// (<see cref="Linear.WeightBytes"/>) and multiply-adds per row. A forward reads every block's maps once and the
/// head once for its logit rows; a backward to a block's input reads each later block's maps once more (its
/// products with Wᵀ read the forward's panels).
/// </summary>
public sealed class StreamedWeights
{
    private readonly GatedBlockMaps[] layers;
    private readonly Linear head;
    private readonly double attentionWidth;

    public StreamedWeights(IReadOnlyList<GatedBlockMaps> layers, Linear head, double attentionWidth)
    {
        this.layers = [.. layers];
        this.head = head;
        this.attentionWidth = attentionWidth;
    }

    /// <summary>The maps of <paramref name="model"/>'s blocks and its output head; a clear error for a family without Llama's seven maps.</summary>
    public static StreamedWeights Of(ITransformer model)
    {
        double width = (double)model.Facts.NHeads * model.Facts.DHead;
        return model switch
        {
            Gemma2 g => new(g.Weights.Layers.Select(l => l.Maps).ToList(), g.Weights.LmHead, width),
            Llama l => new(l.Weights.Layers.Select(x => x.Maps).ToList(), l.Weights.LmHead, width),
            _ => throw new RelpSaeException($"the real-shape rows time Llama, Qwen, Mistral and Gemma models (their blocks' seven maps), not {model.Facts.Architecture}"),
        };
    }

    /// <summary>What the weights are held as.</summary>
    public PanelElement Element => head.Element;

    /// <summary>The output head (the embedding when tied).</summary>
    public Linear Head => head;

    /// <summary>The last block's maps.</summary>
    public GatedBlockMaps LastBlock => layers[^1];

    /// <summary>The blocks' maps and the head: every packed weight of the model once.</summary>
    public long ForwardBytes => BlockBytes(0) + head.WeightBytes;

    /// <summary>The RelP pass to block <paramref name="toLayer"/>'s input: every block's maps for the forward (no logits), then the later blocks' again.</summary>
    public long RelPBytes(int toLayer) => BlockBytes(0) + BlockBytes(toLayer);

    public double ForwardGflop(int batch, int tokens) =>
        FlopCounts.Forward(Blocks(), batch, tokens, lastOnMetricRows: true, logitRows: batch, (double)head.Inputs * head.Outputs) / 1e9;

    public double RelPGflop(int batch, int tokens, int toLayer)
    {
        var blocks = Blocks();
        return (FlopCounts.Forward(blocks, batch, tokens, lastOnMetricRows: true, 0, 0) + FlopCounts.Backward(blocks[toLayer..], batch, tokens)) / 1e9;
    }

    private long BlockBytes(int from) => layers.Skip(from).Sum(m => Maps(m).Sum(x => x.WeightBytes));

    private BlockProducts[] Blocks() =>
        [.. layers.Select(m => new BlockProducts(Size(m.Q) + Size(m.K) + Size(m.V), Size(m.O) + Size(m.Gate) + Size(m.Up) + Size(m.Down), attentionWidth))];

    private static double Size(Linear map) => (double)map.Inputs * map.Outputs;

    /// <summary>A block's seven maps.</summary>
    public static Linear[] Maps(GatedBlockMaps m) => [m.Q, m.K, m.V, m.O, m.Gate, m.Up, m.Down];
}
