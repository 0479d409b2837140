using RelpSae.Lrp;

namespace RelpSae.Model;

/// <summary>
/// What every model family offers the rest of the toolkit: its facts, a forward pass from token ids or
/// from a residual hook, and (through the run) logits, hooked activations, metrics and the backward pass
/// with propagation rules. Every family implements it through <see cref="StackedTransformer{TLayer}"/>.
/// </summary>
public interface ITransformer
{
    ModelFacts Facts { get; }

    /// <summary>Forward from token ids laid out [batch × tokens].</summary>
    ITransformerRun Forward(ReadOnlySpan<int> tokens, int batch, RunOptions? options = null);

    /// <summary>Forward from a residual hook whose activation [batch × tokens × d_model] is given.</summary>
    ITransformerRun ForwardFrom(HookPoint start, ReadOnlySpan<float> activation, int batch, int tokens, RunOptions? options = null);

    /// <summary>
    /// The activation at <paramref name="hook"/> for token ids [batch × tokens], computing nothing after it:
    /// the prefix to run once before many <see cref="ForwardFrom"/> / <see cref="ITransformerRun.Rerun"/> calls.
    /// </summary>
    float[] ActivationAt(HookPoint hook, ReadOnlySpan<int> tokens, int batch);

    /// <summary>
    /// Logits [count × V] of residual-stream directions [count × d_model] read through the final norm's scale γ
    /// (a LayerNorm's centring included) and the unembedding, with the norm's 1/σ left out: TransformerLens'
    /// W_U after fold_ln, as feature dashboards read a decoder direction.
    /// </summary>
    float[] DirectionLogits(ReadOnlySpan<float> directions, int count);

    /// <summary>Token <paramref name="id"/>'s row of the unembedding [d_model]: the direction its logit reads from the final norm's output.</summary>
    float[] UnembeddingRow(int id);

    /// <summary>The unembedding's rows averaged over the vocabulary [d_model]: what a demeaned logit direction subtracts.</summary>
    float[] UnembeddingMean();
}

/// <summary>One forward pass of an <see cref="ITransformer"/> (rows laid out [batch × tokens]).</summary>
public interface ITransformerRun : IDisposable
{
    int Batch { get; }
    int Tokens { get; }
    /// <summary>The rows the pass computed: batch × tokens, or batch × (tokens − p) after a reused clean prefix of p rows (<see cref="RunOptions.Prefix"/>).</summary>
    int Rows => Batch * Tokens;
    HookPoint? Start { get; }
    /// <summary>The residual stream after the last block that ran [rows × d_model].</summary>
    float[] Residual { get; }
    /// <summary>The final norm's output [rows × d_model]: what the unembedding reads.</summary>
    float[] Final { get; }
    /// <summary>Logits as <see cref="RunOptions.Logits"/> asked: [rows × V], [batch × V] or empty.</summary>
    float[] Logits { get; }
    bool Completed { get; }
    IReadOnlyDictionary<string, float[]> Cache { get; }
    float[] Cached(HookPoint hook);
    double[] MetricValues(IReadOnlyList<Metric> metrics);
    /// <summary>d(Σ_b m_b)/d(activation at a residual hook) with the given rules (needs <see cref="RunOptions.KeepForBackward"/>).</summary>
    float[] Backward(IReadOnlyList<Metric> metrics, HookPoint hook, PropagationRules rules);
    /// <summary>
    /// One backward pass from the metric (summed over sequences) down to the pass's start, recording the
    /// coefficient at every component hook it passes (hook_mlp_out, hook_attn_out, attn.hook_z, hook_resid_pre).
    /// </summary>
    ComponentGradients ComponentBackward(IReadOnlyList<Metric> metrics, PropagationRules rules);
    /// <summary>
    /// One backward pass seeded by a vector in each sequence (<see cref="GradientSeed"/>) instead of a metric, down to the
    /// embeddings, recording the coefficient at every component hook into <paramref name="record"/> (reused between passes);
    /// under <see cref="PropagationRules.CutMlp"/> the <paramref name="skips"/> are the only paths through the MLPs; the pass
    /// stops at the hook_resid_post hooks of <paramref name="cut"/>.
    /// </summary>
    void SeededBackward(IReadOnlyList<GradientSeed> seeds, PropagationRules rules, ComponentGradients record, IReadOnlyList<MlpSkip> skips, ResidualCut? cut = null);
    double[] MetricValues(Metric metric) => MetricValues([metric]);
    float[] Backward(Metric metric, HookPoint hook, PropagationRules rules) => Backward([metric], hook, rules);
    /// <summary>Runs again from <see cref="Start"/> with a new activation, reusing every buffer.</summary>
    ITransformerRun Rerun(ReadOnlySpan<float> activation);
}
