using RelpSae.Model;

namespace RelpSae.Interventions;

/// <summary>
/// Feature interventions in force in a model: at each dictionary's hook the arriving activation x splits into features
/// f = encode(x) (a transcoder's encoded from its input hook) and the error node ε = x − decode(f), which is held; steered
/// features grow by their value, clamped ones are set to theirs, and the hook's activation becomes
/// decode(f̃) + ε = x + Σ (f̃_i − f_i)·W_dec[i]. It is computed in that last form, so a feature left as it was (clamped to its
/// own value) leaves x bit for bit. As a rewrite (<see cref="RunOptions.Rewrite"/>) it acts at every position of every
/// sequence of a pass from token ids; <see cref="At"/> gives one hook's edit for a caller that holds x and f itself.
/// </summary>
public sealed class FeatureInterventions : IActivationRewrite
{
    private readonly Dictionary<HookPoint, (FeatureDictionary Dictionary, FeatureIntervention[] Changes)> sites;
    /// <summary>Each transcoder input hook's activation in the pass under way, until its output hook uses it.</summary>
    private readonly Dictionary<HookPoint, float[]> inputs = [];
    /// <summary>The width of each transcoder input hook.</summary>
    private readonly Dictionary<HookPoint, int> inputWidths = [];

    /// <summary>Checks each intervention against the dictionaries (one per hook) of the model of <paramref name="facts"/>.</summary>
    public FeatureInterventions(IReadOnlyList<FeatureIntervention> interventions, IReadOnlyList<FeatureDictionary> dictionaries, ModelFacts facts)
    {
        var byHook = dictionaries.ToDictionary(d => d.Hook);
        var changes = new Dictionary<HookPoint, List<FeatureIntervention>>();
        foreach (var i in interventions)
        {
            if (!float.IsFinite(i.Value)) throw Refused(i, "the value must be a finite number");
            HookPoint hook;
            try { hook = facts.ParseHook(i.Hook); }
            catch (RelpSaeException e) { throw Refused(i, e.Message); }
            if (!byHook.TryGetValue(hook, out var dictionary))
                throw Refused(i, $"no dictionary at {hook}; " + (byHook.Count == 0 ? "none is given"
                    : $"the dictionaries given are at {string.Join(", ", byHook.Keys)} (a transcoder at its output hook)"));
            int n = dictionary.Dictionary.DSae;
            if (i.Feature < 0 || i.Feature >= n) throw Refused(i, $"feature {i.Feature} is outside the dictionary's {n} features (0..{n - 1})");
            var atHook = changes.TryGetValue(hook, out var list) ? list : changes[hook] = [];
            if (atHook.Find(c => c.Feature == i.Feature) is { } earlier) throw Refused(i, $"feature {i.Feature} at {hook} is already changed by {earlier}");
            atHook.Add(i);
        }
        InForce = interventions.ToArray();
        sites = changes.ToDictionary(c => c.Key, c => (byHook[c.Key], c.Value.ToArray()));
        foreach (var (dictionary, _) in sites.Values)
            if (dictionary.EncodedFrom is { } input) (inputs[input], inputWidths[input]) = ([], dictionary.Dictionary.DIn);
    }

    /// <summary>The interventions, in the order given.</summary>
    public IReadOnlyList<FeatureIntervention> InForce { get; }

    /// <summary>The edit of the interventions at <paramref name="hook"/>; null when none act there.</summary>
    public FeatureEdit? At(HookPoint hook) =>
        sites.TryGetValue(hook, out var site) ? (activation, features) => Edit(site.Dictionary, site.Changes, activation, features) : null;

    public void Apply(HookPoint hook, float[] activation, int batch, int tokens)
    {
        if (sites.TryGetValue(hook, out var site))
        {
            var sae = site.Dictionary.Dictionary;
            var x = activation.AsSpan(0, batch * tokens * sae.DIn);
            var features = sae.Encode(site.Dictionary.EncodedFrom is { } input ? TakeInput(input, hook, x.Length) : x);
            Edit(site.Dictionary, site.Changes, x, features);
        }
        // Kept after any edit here: the MLP reads the activation as changed.
        if (inputWidths.TryGetValue(hook, out int width)) inputs[hook] = activation.AsSpan(0, batch * tokens * width).ToArray();
    }

    /// <summary>
    /// These interventions at the hooks after <paramref name="start"/> only, for a pass that starts there from an activation
    /// they have already changed (the model downstream of a spliced site).
    /// </summary>
    public IActivationRewrite After(HookPoint start, ModelFacts facts)
    {
        var later = facts.HookPoints().SkipWhile(h => h != start).Skip(1).ToHashSet();
        return new Later(this, later);
    }

    private sealed class Later(FeatureInterventions inner, HashSet<HookPoint> hooks) : IActivationRewrite
    {
        public void Apply(HookPoint hook, float[] activation, int batch, int tokens)
        {
            if (hooks.Contains(hook)) inner.Apply(hook, activation, batch, tokens);
        }
    }

    /// <summary>A transcoder's input from this pass (used once, so a later pass cannot read a stale one).</summary>
    private float[] TakeInput(HookPoint input, HookPoint output, int length)
    {
        var x = inputs[input];
        if (x.Length != length) throw new InvalidOperationException($"the pass reached {output} without a matching activation at its transcoder's input {input}");
        inputs[input] = [];
        return x;
    }

    private static void Edit(FeatureDictionary dictionary, FeatureIntervention[] changes, Span<float> activation, Span<float> features)
    {
        var sae = dictionary.Dictionary;
        int d = sae.DIn, n = sae.DSae, rows = activation.Length / d;
        if (features.Length != rows * n) throw new ArgumentException($"{features.Length} feature values for {rows} rows of {n} features", nameof(features));
        for (int r = 0; r < rows; r++)
            foreach (var change in changes)
            {
                ref float f = ref features[r * n + change.Feature];
                float delta = change.Target is { } target ? target - f : change.Value;
                if (delta == 0) continue; // the feature as it was: x stays bit for bit
                f = change.Target ?? f + delta;
                sae.AddFeatureContribution(change.Feature, delta, activation.Slice(r * d, d));
            }
    }

    private static SettingException Refused(FeatureIntervention i, string why) => new(name => $"{name(i.Setting)} {i.Spec}: {why}");
}
