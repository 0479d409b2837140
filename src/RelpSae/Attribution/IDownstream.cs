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

    /// <summary>d(Σ_b m_b)/d(activations), exact or with propagation rules.</summary>
    float[] Backward(float[] activations, int batch, int tokens, Metric metric, PropagationRules rules);
}

/// <summary>
/// A model's blocks after a residual hook (any family). Ground truth and integrated gradients run the same
/// shapes many times, so each shape's pass is kept and re-run on its own buffers (<see cref="ITransformerRun.Rerun"/>).
/// </summary>
public sealed class TransformerDownstream(ITransformer model, HookPoint hook) : IDownstream
{
    private readonly Dictionary<(int Batch, int Tokens, bool Keep), ITransformerRun> runs = [];

    public double[] Metric(float[] activations, int batch, int tokens, Metric metric) =>
        Run(activations, batch, tokens, keepForBackward: false).MetricValues(metric);

    public float[] Backward(float[] activations, int batch, int tokens, Metric metric, PropagationRules rules) =>
        Run(activations, batch, tokens, keepForBackward: true).Backward(metric, hook, rules);

    private ITransformerRun Run(float[] activations, int batch, int tokens, bool keepForBackward)
    {
        if (runs.TryGetValue((batch, tokens, keepForBackward), out var run)) return run.Rerun(activations);
        run = model.ForwardFrom(hook, activations, batch, tokens, new RunOptions { KeepForBackward = keepForBackward, Logits = LogitRows.None });
        runs[(batch, tokens, keepForBackward)] = run;
        return run;
    }
}
