using RelpSae.Model;
using RelpSae.Sae;
using RelpSae.Interventions;

namespace RelpSae.Attribution;

/// <summary>
/// Several dictionaries spliced into the model at once for one prompt (<see cref="SaeSet"/>): at each one's site the
/// clean activation splits into features and an error node (<see cref="SaeSplice"/>; a transcoder's features encoded
/// from its MLP's input), so the model still computes decode(f) + ε = x at every site and its output is unchanged. The
/// activations of all hooks come from one forward pass of the prompt (and one of the corrupted prompt).
/// Under feature interventions the passes run with them in force (<see cref="FeatureInterventions"/>), each site split from
/// its activation as it arrived, before the interventions there changed it, and the model after each site keeps those
/// after it. A clamp or an ablation is taken only at a site with no other site before it: the backward pass carries a
/// gradient through a changed hook unchanged, which a clamp at a later site would make wrong for the sites before it
/// (the clamped feature no longer follows them); a steer adds a constant, which it does not.
/// </summary>
public sealed class MultiSaeSplice
{
    private MultiSaeSplice(int[] tokens, IReadOnlyList<HookedSae> saes, IReadOnlyList<SaeSplice> splices, FeatureInterventions? interventions)
    {
        Tokens = tokens; Saes = saes; Splices = splices; Interventions = interventions;
    }

    /// <summary>The feature interventions in force in every pass of the spliced model; null: none.</summary>
    public FeatureInterventions? Interventions { get; }

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
        if (interventions is not null) CheckClamps(model.Facts, saes, interventions);
        var hooks = saes.SelectMany(s => BranchOutputDownstream.Needs(model.Facts, s.Hook).Append(s.Input)).Distinct().ToArray();
        var sites = saes.Select(s => s.Hook).ToArray();
        var (clean, arrived) = Activations(model, tokens, hooks, sites, interventions);
        Dictionary<HookPoint, float[]>? corrupt = null;
        if (baseline.Kind == BaselineKind.Corrupt)
        {
            var ids = baseline.CorruptTokens ?? throw new ArgumentException("a corrupt baseline needs its tokens");
            CorruptedPrompt.CheckLength(tokens, ids);
            corrupt = Activations(model, ids, hooks, sites, interventions).Arrived;
        }
        if (baseline.Kind == BaselineKind.Mean && featureMeans?.Count != saes.Count)
            throw new RelpSaeException("the mean baseline needs feature means beside every SAE (feature_means.safetensors, written by SaeModelEvaluation)");
        var splices = saes.Select((s, i) => SaeSplice.FromActivations(BranchOutputDownstream.For(model, s.Hook, h => clean[h], interventions), s.Sae, arrived[s.Hook],
            baseline.Kind == BaselineKind.Mean ? Baseline.Mean(featureMeans![i]) : baseline, corrupt?[s.Hook],
            s.IsTranscoder ? clean[s.Input] : null, s.IsTranscoder ? corrupt?[s.Input] : null, interventions?.At(s.Hook))).ToList();
        return new MultiSaeSplice(tokens, saes, splices, interventions);
    }

    /// <summary>
    /// The activations at <paramref name="hooks"/>, from a pass (under the interventions) that stops at the last of them, and
    /// the same with those at <paramref name="sites"/> as they arrived, before the interventions there.
    /// </summary>
    private static (Dictionary<HookPoint, float[]> Cached, Dictionary<HookPoint, float[]> Arrived) Activations(ITransformer model, int[] tokens,
        HookPoint[] hooks, HookPoint[] sites, FeatureInterventions? interventions)
    {
        var last = model.Facts.HookPoints().Last(hooks.Contains);
        var arriving = interventions is null ? null : new Arriving(interventions, [.. sites]);
        using var run = model.Forward(tokens, 1, new RunOptions { Cache = hooks, StopAfter = last, Logits = LogitRows.None, Rewrite = arriving });
        var cached = hooks.ToDictionary(h => h, run.Cached);
        if (arriving is null) return (cached, cached);
        var arrived = new Dictionary<HookPoint, float[]>(cached);
        foreach (var site in sites) arrived[site] = arriving.Arrived[site];
        return (cached, arrived);
    }

    /// <summary>The interventions, keeping a copy of each site's activation before they change it.</summary>
    private sealed class Arriving(FeatureInterventions interventions, HashSet<HookPoint> sites) : IActivationRewrite
    {
        public Dictionary<HookPoint, float[]> Arrived { get; } = [];

        public void Apply(HookPoint hook, float[] activation, int batch, int tokens)
        {
            if (sites.Contains(hook)) Arrived[hook] = (float[])activation.Clone();
            interventions.Apply(hook, activation, batch, tokens);
        }
    }

    /// <summary>Refuses a clamp or an ablation at a site that has another site before it (see the class's remarks).</summary>
    private static void CheckClamps(ModelFacts facts, IReadOnlyList<HookedSae> saes, FeatureInterventions interventions)
    {
        foreach (var change in interventions.InForce.Where(c => c.Target is not null))
        {
            var site = saes.First(s => s.Hook == facts.ParseHook(change.Hook));
            var earlier = saes.FirstOrDefault(s => s != site && Order(facts, s.Hook) < Order(facts, site.Hook));
            if (earlier is not null)
                throw new SettingException(name => $"{name(change.Setting)} {change.Spec}: a clamp or an ablation goes at the first spliced site; "
                    + $"{earlier.Hook} comes before it, and its gradient would pass the clamped feature as if it still followed it (steering may go at any site)");
        }
    }

    private static int Order(ModelFacts facts, HookPoint hook) => facts.HookPoints().TakeWhile(p => p != hook).Count();
}
