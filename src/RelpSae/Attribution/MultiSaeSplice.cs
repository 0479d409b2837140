using RelpSae.Model;
using RelpSae.Sae;
using RelpSae.Interventions;

namespace RelpSae.Attribution;

/// <summary>
/// Several dictionaries spliced into the model at once for one prompt (<see cref="SaeSet"/>): at each one's site the
/// clean activation splits into features and an error node (<see cref="SaeSplice"/>; a transcoder's features encoded
/// from its MLP's input), so the model still computes decode(f) + ε = x at every site and its output is unchanged. The
/// activations of all hooks come from one forward pass of the prompt (and one of the corrupted prompt).
/// </summary>
public sealed class MultiSaeSplice
{
    private MultiSaeSplice(int[] tokens, IReadOnlyList<HookedSae> saes, IReadOnlyList<SaeSplice> splices)
    {
        Tokens = tokens; Saes = saes; Splices = splices;
    }

    public int[] Tokens { get; }
    public IReadOnlyList<HookedSae> Saes { get; }
    /// <summary>One splice per dictionary, in the dictionaries' order (along the forward pass).</summary>
    public IReadOnlyList<SaeSplice> Splices { get; }

    /// <summary>
    /// Splits every site's activation. <paramref name="featureMeans"/> holds each dictionary's feature means
    /// (in the dictionaries' order) for a mean baseline; a corrupt baseline's prompt is run once for all sites.
    /// <paramref name="interventions"/> change each site's activation and features before it splits (<see cref="FeatureInterventions.At"/>).
    /// </summary>
    public static MultiSaeSplice Create(ITransformer model, IReadOnlyList<HookedSae> saes, int[] tokens, Baseline baseline,
        IReadOnlyList<float[]>? featureMeans = null, FeatureInterventions? interventions = null)
    {
        var hooks = saes.SelectMany(s => BranchOutputDownstream.Needs(model.Facts, s.Hook).Append(s.Input)).Distinct().ToArray();
        var clean = Activations(model, tokens, hooks);
        Dictionary<HookPoint, float[]>? corrupt = null;
        if (baseline.Kind == BaselineKind.Corrupt)
        {
            var ids = baseline.CorruptTokens ?? throw new ArgumentException("a corrupt baseline needs its tokens");
            CorruptedPrompt.CheckLength(tokens, ids);
            corrupt = Activations(model, ids, hooks);
        }
        if (baseline.Kind == BaselineKind.Mean && featureMeans?.Count != saes.Count)
            throw new RelpSaeException("the mean baseline needs feature means beside every SAE (feature_means.safetensors, written by SaeModelEvaluation)");
        var splices = saes.Select((s, i) => SaeSplice.FromActivations(BranchOutputDownstream.For(model, s.Hook, h => clean[h]), s.Sae, clean[s.Hook],
            baseline.Kind == BaselineKind.Mean ? Baseline.Mean(featureMeans![i]) : baseline, corrupt?[s.Hook],
            s.IsTranscoder ? clean[s.Input] : null, s.IsTranscoder ? corrupt?[s.Input] : null, interventions?.At(s.Hook))).ToList();
        return new MultiSaeSplice(tokens, saes, splices);
    }

    /// <summary>The activations at <paramref name="hooks"/>, from a pass that stops at the last of them.</summary>
    private static Dictionary<HookPoint, float[]> Activations(ITransformer model, int[] tokens, HookPoint[] hooks)
    {
        var last = model.Facts.HookPoints().Last(hooks.Contains);
        using var run = model.Forward(tokens, 1, new RunOptions { Cache = hooks, StopAfter = last, Logits = LogitRows.None });
        return hooks.ToDictionary(h => h, run.Cached);
    }
}
