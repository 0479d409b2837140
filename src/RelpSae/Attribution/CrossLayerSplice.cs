using System.Numerics.Tensors;
using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Attribution;

/// <summary>
/// A cross-layer transcoder spliced into the model in place of every MLP for one prompt: each layer's MLP output y_l
/// splits into the transcoder's prediction ŷ_l = b_dec_l + Σ_{l'≤l} f_{l'}·W_dec[l'→l] from the features f_{l'} =
/// encode(x_{l'}) of the clean pass, and an error node ε_l = y_l − ŷ_l held as its own leaf. A pass with
/// <see cref="Replacement"/> writes ŷ_l + ε_l at every output hook, so the model computes what it did, to float rounding,
/// while its MLP outputs are functions of the features. The baseline splits the same way (zero: no features, no error;
/// corrupt: the corrupted prompt's). Everything is [tokens × width], one prompt.
/// </summary>
public sealed class CrossLayerSplice
{
    private CrossLayerSplice(CrossLayerTranscoder transcoder, HookPoint[] outputs, int tokens)
    {
        Transcoder = transcoder; OutputHooks = outputs; Tokens = tokens;
    }

    public CrossLayerTranscoder Transcoder { get; }
    /// <summary>Each layer's output hook, where the prediction and error node are written.</summary>
    public IReadOnlyList<HookPoint> OutputHooks { get; }
    public int Tokens { get; }
    /// <summary>Each layer's clean features [tokens × d_sae].</summary>
    public float[][] Features { get; private set; } = [];
    /// <summary>Each layer's ε_l = y_l − ŷ_l [tokens × d_model].</summary>
    public float[][] Error { get; private set; } = [];
    public float[][] BaselineFeatures { get; private set; } = [];
    public float[][] BaselineError { get; private set; } = [];

    /// <summary>
    /// Runs the prompt (and the corrupted prompt) through the model, caching every layer's MLP input and output, and splits
    /// them; <paramref name="source"/> (the transcoder's folder) names the fault when its hooks are not the model's. A
    /// transcoder writing mlp.hook_out before a post-feedforward norm (Gemma) is refused, as is a mean baseline (a
    /// cross-layer transcoder comes with no feature means).
    /// </summary>
    public static CrossLayerSplice Create(ITransformer model, CrossLayerTranscoder transcoder, string source, int[] tokens, Baseline baseline)
    {
        var hooks = transcoder.Hooks(model.Facts, source);
        if (hooks[0].Output.Kind == HookKind.MlpHookOut && model is IMlpPostNorm)
            throw new RelpSaeException($"{source}: the cross-layer transcoder writes mlp.hook_out, which lies before this model's post-feedforward norm; "
                + "only cross-layer transcoders writing hook_mlp_out are supported here");
        if (baseline.Kind == BaselineKind.Mean)
            throw new RelpSaeException($"{source}: a cross-layer transcoder has no feature means for a mean baseline: use the zero or corrupt baseline");
        var s = new CrossLayerSplice(transcoder, hooks.Select(h => h.Output).ToArray(), tokens.Length);
        (s.Features, s.Error) = s.Split(model, hooks, tokens);
        if (baseline.Kind == BaselineKind.Corrupt)
        {
            var ids = baseline.CorruptTokens ?? throw new ArgumentException("a corrupt baseline needs its tokens");
            CorruptedPrompt.CheckLength(tokens, ids);
            (s.BaselineFeatures, s.BaselineError) = s.Split(model, hooks, ids);
        }
        else
        {
            s.BaselineFeatures = s.Features.Select(f => new float[f.Length]).ToArray();
            s.BaselineError = s.Error.Select(e => new float[e.Length]).ToArray();
        }
        return s;
    }

    /// <summary>Every layer's features and error node for a prompt, from one pass that stops after the last MLP.</summary>
    private (float[][] Features, float[][] Error) Split(ITransformer model, (HookPoint Input, HookPoint Output)[] hooks, int[] ids)
    {
        var cache = hooks.SelectMany(h => new[] { h.Input, h.Output }).Distinct().ToArray();
        using var run = model.Forward(ids, 1, new RunOptions { Cache = cache, StopAfter = hooks[^1].Output, Logits = LogitRows.None });
        var features = hooks.Select((h, l) => Transcoder.Encoders[l].Encode(run.Cached(h.Input))).ToArray();
        var error = hooks.Select((h, l) =>
        {
            var e = Transcoder.Output(l, features);
            TensorPrimitives.Subtract(run.Cached(h.Output), e, e);
            return e;
        }).ToArray();
        return (features, error);
    }

    /// <summary>
    /// The rewrite (<see cref="RunOptions.Rewrite"/>) that puts the transcoder in every MLP's place in a one-prompt pass:
    /// at each output hook, ŷ_l(<paramref name="features"/>) + <paramref name="error"/>_l; the clean features and error
    /// nodes when none are given, which reproduces the model.
    /// </summary>
    public IActivationRewrite Replacement(float[][]? features = null, float[][]? error = null) =>
        new MlpReplacement(this, features ?? Features, error ?? Error);

    /// <summary>The baseline's replacement: its features and error nodes in every MLP's place.</summary>
    public IActivationRewrite BaselineReplacement() => Replacement(BaselineFeatures, BaselineError);

    private sealed class MlpReplacement(CrossLayerSplice splice, float[][] features, float[][] error) : IActivationRewrite
    {
        public void Apply(HookPoint hook, float[] activation, int batch, int tokens)
        {
            int layer = hook.Layer;
            if (layer < 0 || layer >= splice.OutputHooks.Count || hook != splice.OutputHooks[layer]) return;
            if (batch != 1 || tokens != splice.Tokens)
                throw new ArgumentException($"the transcoder was spliced for one prompt of {splice.Tokens} tokens, not {batch} of {tokens}");
            var y = splice.Transcoder.Output(layer, features);
            TensorPrimitives.Add(y, error[layer], activation.AsSpan(0, y.Length));
        }
    }
}
