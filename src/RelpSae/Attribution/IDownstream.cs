using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Attribution;

/// <summary>
/// The part of the model after the SAE's hook: what every attribution method and the ground truth
/// run, many times, from replaced activations [batch × tokens × d].
/// </summary>
public interface IDownstream
{
    /// <summary>The metric of each of the batch's sequences.</summary>
    double[] Metric(float[] activations, int batch, int tokens, Metric metric);

    /// <summary>
    /// The same for sequences equal to <paramref name="clean"/> (one sequence) before row
    /// <paramref name="firstChanged"/>: those rows may be taken from the clean run (<see cref="CleanPrefix"/>).
    /// </summary>
    double[] Metric(float[] activations, int batch, int tokens, Metric metric, float[] clean, int firstChanged) =>
        Metric(activations, batch, tokens, metric);

    /// <summary>d(Σ_b m_b)/d(activations), exact or with propagation rules.</summary>
    float[] Backward(float[] activations, int batch, int tokens, Metric metric, PropagationRules rules);
}

/// <summary>
/// A model's blocks after a residual hook (any family). Ground truth and integrated gradients run the same
/// shapes many times, so each shape's pass is kept and re-run on its own buffers (<see cref="ITransformerRun.Rerun"/>).
/// <paramref name="rewrite"/> acts in every pass (feature interventions at later hooks); its passes compute every row.
/// </summary>
public sealed class TransformerDownstream(ITransformer model, HookPoint hook, IActivationRewrite? rewrite = null) : IDownstream
{
    private readonly Dictionary<(int Batch, int Tokens, bool Keep, int Position), ITransformerRun> runs = [];

    public double[] Metric(float[] activations, int batch, int tokens, Metric metric) =>
        Run(activations, batch, tokens, keepForBackward: false, metric.Position).MetricValues(metric);

    public float[] Backward(float[] activations, int batch, int tokens, Metric metric, PropagationRules rules) =>
        Run(activations, batch, tokens, keepForBackward: true, metric.Position).Backward(metric, hook, rules);

    /// <summary>The clean pass whose rows patched passes reuse (kept for them), with its input.</summary>
    private (float[] Input, ITransformerRun Run)? clean;

    /// <summary>The last shape of patched pass that reused the clean prefix; one at a time, as each holds buffers for its shape.</summary>
    private ((int Batch, int Tokens, int First) Shape, ITransformerRun Run)? patched;

    public double[] Metric(float[] activations, int batch, int tokens, Metric metric, float[] cleanActivation, int firstChanged)
    {
        firstChanged = CleanPrefix.Reusable(firstChanged);
        // A pass reusing the clean rows takes no rewrite.
        if (firstChanged == 0 || rewrite is not null) return Metric(activations, batch, tokens, metric);
        var cleanRun = CleanRun(cleanActivation, tokens);
        if (patched is { } p && p.Shape == (batch, tokens, firstChanged)) return p.Run.Rerun(activations).MetricValues(metric);
        patched?.Run.Dispose();
        var run = model.ForwardFrom(hook, activations, batch, tokens,
            new RunOptions { Logits = LogitRows.None, Prefix = new CleanPrefix(cleanRun, firstChanged) });
        patched = ((batch, tokens, firstChanged), run);
        return run.MetricValues(metric);
    }

    private ITransformerRun CleanRun(float[] input, int tokens)
    {
        if (clean is { } c && c.Input.AsSpan().SequenceEqual(input)) return c.Run;
        patched?.Run.Dispose();
        patched = null;
        clean?.Run.Dispose();
        var run = model.ForwardFrom(hook, input, 1, tokens, new RunOptions { KeepForBackward = true, Logits = LogitRows.None });
        clean = ((float[])input.Clone(), run);
        return run;
    }

    /// <summary>A pass reading the metric's position only: the last block runs past attention on that row alone (GPT-2).</summary>
    private ITransformerRun Run(float[] activations, int batch, int tokens, bool keepForBackward, int position)
    {
        var shape = (batch, tokens, keepForBackward, position);
        if (runs.TryGetValue(shape, out var run)) return run.Rerun(activations);
        run = model.ForwardFrom(hook, activations, batch, tokens,
            new RunOptions { KeepForBackward = keepForBackward, Logits = LogitRows.None, OutputPositions = [position], Rewrite = rewrite });
        runs[shape] = run;
        return run;
    }
}
