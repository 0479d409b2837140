using RelpSae.Interventions;
using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Attribution;

/// <summary>
/// An SAE spliced into the model at its hook for one prompt (docs/methods.md §5): the clean activation x splits
/// into features f = encode(x) and an error node ε = x − decode(f) held as its own leaf, so the model
/// continues from decode(f) + ε = x, numerically unchanged. The baseline splits the same way,
/// x′ = decode(f′) + ε′. A transcoder splices the same way at its MLP's output y (<see cref="CreateTranscoder"/>), its
/// features encoded from the MLP's input instead: ε = y − decode(f), its skip connection's term with the error node.
/// Under feature interventions (<see cref="FeatureInterventions"/>) the splice is of the intervened model: at the hook the
/// features are the changed ones f̃ and the activation the changed one x̃, so ε = x̃ − decode(f̃), the error node the
/// intervention held; a corrupted prompt is run through the intervened model too.
/// Everything is [tokens × width], one prompt.
/// </summary>
public sealed class SaeSplice
{
    private SaeSplice(IDownstream downstream, SparseAutoencoder sae, int tokens)
    {
        Downstream = downstream; Sae = sae; Tokens = tokens;
    }

    /// <summary>The model after the hook.</summary>
    public IDownstream Downstream { get; }
    public SparseAutoencoder Sae { get; }
    public int Tokens { get; }

    public float[] Clean { get; private set; } = [];
    public float[] Features { get; private set; } = [];
    public float[] Error { get; private set; } = [];
    public float[] BaselineActivation { get; private set; } = [];
    public float[] BaselineFeatures { get; private set; } = [];
    public float[] BaselineError { get; private set; } = [];

    /// <summary>Runs the model up to the hook for the prompt (and the corrupted prompt) and splits both, under the interventions at the hook.</summary>
    public static SaeSplice Create(ITransformer model, SparseAutoencoder sae, HookPoint hook, int[] tokens, Baseline baseline,
        FeatureInterventions? interventions = null)
    {
        if (!model.Facts.IsResidual(hook)) throw new RelpSaeException($"SAEs are spliced at residual hooks (hook_resid_pre/mid/post); {hook} is not one");
        if (sae.DIn != model.Facts.DModel) throw new RelpSaeException(model.Facts.WidthMismatch(sae.DIn));
        float[]? corrupt = null;
        if (baseline.Kind == BaselineKind.Corrupt)
        {
            var ids = baseline.CorruptTokens ?? throw new ArgumentException("a corrupt baseline needs its tokens");
            CorruptedPrompt.CheckLength(tokens, ids);
            corrupt = model.ActivationAt(hook, ids, 1);
        }
        return FromActivations(new TransformerDownstream(model, hook), sae, model.ActivationAt(hook, tokens, 1), baseline, corrupt,
            edit: interventions?.At(hook));
    }

    /// <summary>
    /// Splices a transcoder in place of its MLP for the prompt (and the corrupted prompt): the activation is the MLP's
    /// output, which the blocks after it read through <see cref="BranchOutputDownstream"/>; the features are encoded from its
    /// input. Written at mlp.hook_out on Gemma, the MLP's output passes the post-feedforward norm on its way (Gemma's
    /// <see cref="IMlpPostNorm"/>); <paramref name="source"/> names the transcoder in errors. Interventions at the output hook
    /// change the MLP's output; the rest of the residual stream is the model's.
    /// </summary>
    public static SaeSplice CreateTranscoder(ITransformer model, Transcoder transcoder, string source, int[] tokens, Baseline baseline,
        FeatureInterventions? interventions = null)
    {
        var (input, output) = transcoder.Hooks(model.Facts, source);
        var hooked = new HookedSae(source, transcoder.Dictionary, output, input);
        return MultiSaeSplice.Create(model, [hooked], tokens, baseline, baseline.FeatureMeans is { } means ? [means] : null, interventions).Splices[0];
    }

    /// <summary>
    /// Splits given activations [tokens × d] (the corrupted prompt's too, for a corrupt baseline). A transcoder's features
    /// are encoded from <paramref name="cleanInput"/> (and <paramref name="corruptInput"/>), the activations at its input hook.
    /// <paramref name="edit"/> (<see cref="FeatureInterventions.At"/>) changes the activations and their features before they split.
    /// </summary>
    public static SaeSplice FromActivations(IDownstream downstream, SparseAutoencoder sae, float[] clean, Baseline baseline, float[]? corrupt = null,
        float[]? cleanInput = null, float[]? corruptInput = null, FeatureEdit? edit = null)
    {
        int n = clean.Length / sae.DIn;
        var s = new SaeSplice(downstream, sae, n);
        (s.Clean, s.Features, s.Error) = s.Split(clean, cleanInput ?? clean, edit);
        switch (baseline.Kind)
        {
            case BaselineKind.Corrupt:
                var x = corrupt ?? throw new ArgumentException("a corrupt baseline needs the corrupted activation");
                (s.BaselineActivation, s.BaselineFeatures, s.BaselineError) = s.Split(x, cleanInput is null ? x
                    : corruptInput ?? throw new ArgumentException("a transcoder's corrupt baseline needs the corrupted input"), edit);
                break;
            case BaselineKind.Mean:
                var means = baseline.FeatureMeans ?? throw new ArgumentException("a mean baseline needs the feature means");
                if (means.Length != sae.DSae) throw new RelpSaeException($"feature means hold {means.Length} values for an SAE of {sae.DSae} features");
                s.BaselineFeatures = new float[n * sae.DSae];
                for (int t = 0; t < n; t++) means.CopyTo(s.BaselineFeatures.AsSpan(t * sae.DSae));
                s.BaselineError = new float[n * sae.DIn];
                s.BaselineActivation = sae.Decode(s.BaselineFeatures);
                break;
            default:
                s.BaselineFeatures = new float[n * sae.DSae];
                s.BaselineError = new float[n * sae.DIn];
                s.BaselineActivation = sae.Decode(s.BaselineFeatures);
                break;
        }
        return s;
    }

    /// <summary>The metric of the model run from an activation at the hook (one prompt).</summary>
    public double MetricAt(float[] activation, Metric metric) => Downstream.Metric(activation, 1, Tokens, metric)[0];

    /// <summary>
    /// Features of <paramref name="encoded"/> (x itself for an SAE, the MLP's input for a transcoder), changed by
    /// <paramref name="edit"/> with a copy of x, and the error node x − decode(f).
    /// </summary>
    private (float[] X, float[] Features, float[] Error) Split(float[] x, float[] encoded, FeatureEdit? edit)
    {
        var f = Sae.Encode(encoded);
        if (edit is not null)
        {
            x = (float[])x.Clone();
            edit(x, f);
        }
        var error = Sae.Decode(f);
        for (int i = 0; i < error.Length; i++) error[i] = x[i] - error[i];
        return (x, f, error);
    }
}
