using System.Diagnostics;
using RelpSae.Model;

namespace RelpSae.Attribution;

/// <summary>
/// The RelP paper's protocol (docs/methods.md §6, components): each chosen component at each position is set to
/// its value in the corrupted run, the rest of the model re-run, and the true effect m(clean) − m(patched)
/// compared with each method's estimate (a_clean − a_corr)·c. The estimates cost one forward pass of
/// the prompt and of its corrupted prompt plus each method's coefficients (one backward pass, or IG's
/// path); only the ground truth grows with layers × positions, <see cref="BatchSize"/> patches a pass.
/// </summary>
public sealed class ComponentPatching(ITransformer model, IReadOnlyList<IAttributionMethod> methods, ComponentSelection selection, int batchSize = 32)
{
    private bool warmedUp;

    public int BatchSize { get; } = Math.Max(1, batchSize);

    public ComponentEvaluation Evaluate(int index, string prompt, int[] tokens, int[] corrupt, Metric metric)
    {
        CorruptedPrompt.CheckLength(tokens, corrupt);
        var c = model.Facts;
        if (!warmedUp)
        {
            // One untimed pass of every method first, so the first prompt's times don't include JIT compilation.
            using var warmClean = model.Forward(tokens, 1, CachingEveryComponent(keepForBackward: true));
            using var warmCorrupt = model.Forward(corrupt, 1, CachingEveryComponent(keepForBackward: false));
            foreach (var method in methods) ComponentCoefficients.For(method, model, warmClean, warmCorrupt, metric, selection);
            warmedUp = true;
        }
        GC.Collect();
        var clock = Stopwatch.StartNew();
        using var clean = model.Forward(tokens, 1, CachingEveryComponent(keepForBackward: true));
        using var corrupted = model.Forward(corrupt, 1, CachingEveryComponent(keepForBackward: false));
        double forwardSeconds = clock.Elapsed.TotalSeconds;
        // A component whose corrupted value equals its clean one (a position before the prompts differ)
        // patches nothing: every method and the truth give it exactly 0, so it is left out of the statistics.
        var components = selection.Enumerate(tokens.Length, c)
            .Where(k => !Slice(k, clean).Span.SequenceEqual(Slice(k, corrupted).Span)).ToArray();

        var scores = new Dictionary<string, double[]>();
        var seconds = new Dictionary<string, double>();
        foreach (var method in methods)
        {
            GC.Collect();
            clock.Restart();
            var coefficients = ComponentCoefficients.For(method, model, clean, corrupted, metric, selection);
            scores[method.Name] = components.Select(k => Estimate(k, clean, corrupted, coefficients)).ToArray();
            seconds[method.Name] = clock.Elapsed.TotalSeconds;
        }
        GC.Collect();
        clock.Restart();
        double metricClean = clean.MetricValues(metric)[0];
        var truth = Effects(components, clean, corrupted, metric, metricClean);
        double truthSeconds = clock.Elapsed.TotalSeconds;
        return new ComponentEvaluation(index, prompt, metric.ToString(), metricClean, corrupted.MetricValues(metric)[0],
            components, truth, scores, seconds, forwardSeconds, truthSeconds);
    }

    /// <summary>A full forward pass caching every component hook (the clean one also kept for the backward passes).</summary>
    private RunOptions CachingEveryComponent(bool keepForBackward) => new()
    {
        KeepForBackward = keepForBackward,
        Cache = Enumerable.Range(0, model.Facts.NLayers).SelectMany(l => Component.Kinds.Select(k => new HookPoint(Component.HookKindOf(k), l))).ToArray(),
        Logits = LogitRows.None,
    };

    /// <summary>(a_clean − a_corr)·c over the component's slice of its hook's row.</summary>
    private double Estimate(Component k, ITransformerRun clean, ITransformerRun corrupt, ComponentGradients coefficients)
    {
        var a = Slice(k, clean).Span;
        var b = Slice(k, corrupt).Span;
        var g = Slice(k, coefficients.At(k.Hook)).Span;
        double sum = 0;
        for (int i = 0; i < a.Length; i++) sum += (double)(a[i] - b[i]) * g[i];
        return sum;
    }

    /// <summary>The component's values in a pass's cached activation at its hook.</summary>
    private ReadOnlyMemory<float> Slice(Component k, ITransformerRun run) => Slice(k, run.Cached(k.Hook));

    private ReadOnlyMemory<float> Slice(Component k, float[] hookRows) =>
        hookRows.AsMemory(k.Offset(model.Facts), k.Width(model.Facts));

    /// <summary>
    /// The true effects: components in bands of blocks, by position, <see cref="BatchSize"/> sequences a pass,
    /// each the clean prompt with one component patched, run from the resid_pre of the pass's first block
    /// and from its first patched position (the clean run's rows before it reused).
    /// </summary>
    private double[] Effects(Component[] components, ITransformerRun clean, ITransformerRun corrupt, Metric metric, double metricClean)
    {
        var c = model.Facts;
        int T = clean.Tokens, size = T * c.DModel;
        // A pass costs (blocks from its first layer) × (rows from its first position): components go in bands of
        // a few layers, by position within a band, so that a batch spans about as many layers as positions.
        int cells = components.Select(k => (k.Layer, k.Position)).Distinct().Count();
        int band = Math.Clamp((int)Math.Round(Math.Sqrt(BatchSize * (double)cells / Math.Max(1, components.Length))), 1, c.NLayers);
        var order = Enumerable.Range(0, components.Length)
            .OrderBy(i => components[i].Layer / band).ThenBy(i => components[i].Position).ThenBy(i => components[i].Layer).ToArray();
        var effects = new double[components.Length];
        for (int first = 0; first < order.Length; first += BatchSize)
        {
            int count = Math.Min(BatchSize, order.Length - first);
            var batch = order[first..(first + count)].Select(i => components[i]).ToArray();
            var start = new HookPoint(HookKind.ResidPre, batch.Min(k => k.Layer));
            // Rows before the batch's first patched position are the clean run's in every block (attention is causal).
            int firstRow = CleanPrefix.Reusable(batch.Min(k => k.Position));
            var input = new float[count * size];
            for (int b = 0; b < count; b++) clean.Cached(start).CopyTo(input, b * size);
            var patches = new ActivationPatch[count];
            for (int b = 0; b < count; b++)
            {
                var k = batch[b];
                patches[b] = new ActivationPatch(k.Hook, b * T + k.Position, k.Column(c), Slice(k, corrupt));
            }
            using var run = model.ForwardFrom(start, input, count, T,
                new RunOptions { Logits = LogitRows.None, Patches = patches, Prefix = new CleanPrefix(clean, firstRow) });
            var values = run.MetricValues(metric);
            for (int b = 0; b < count; b++) effects[order[first + b]] = metricClean - values[b];
        }
        return effects;
    }
}
