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

/// <summary>GPT-2's blocks after a residual hook.</summary>
public sealed class Gpt2Downstream(Gpt2 model, HookPoint hook) : IDownstream
{
    public double[] Metric(float[] activations, int batch, int tokens, Metric metric) =>
        model.ForwardFrom(hook, activations, batch, tokens, new RunOptions { Logits = LogitRows.None }).MetricValues(metric);

    public float[] Backward(float[] activations, int batch, int tokens, Metric metric, PropagationRules rules) =>
        model.ForwardFrom(hook, activations, batch, tokens, new RunOptions { KeepForBackward = true, Logits = LogitRows.None })
            .Backward(metric, hook, rules);
}
