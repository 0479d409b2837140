using RelpSae.Lrp;

namespace RelpSae.Graphs;

/// <summary>
/// How an attribution graph's edges are computed. Over transcoders every method cuts the MLPs (their outputs are graph
/// nodes) and differs in what the rest of the backward pass does. replacement (circuit-tracer's local replacement
/// model): attention patterns and norm scales frozen, the LN- and AH-rules; gradient: the exact gradient of the spliced
/// model; ig: the exact gradient averaged along the path that moves every MLP output's nodes from zero to their values
/// (<see cref="GraphIntegratedGradients"/>); any RelP preset or rule list: those rules. Over residual-stream SAEs the
/// edges pass through the MLPs, so none is cut, and replacement freezes the MLPs' gates too: the Identity-rule on the
/// activation, the Half-rule on a gated MLP's product (ln, identity, ah, half); ig's path, over MLP outputs, is not theirs.
/// </summary>
public static class GraphMethod
{
    public const string Replacement = "replacement";
    public const string IntegratedGradients = "ig";

    /// <summary>The rules of the method's backward passes (for ig, those at each point of its path: the exact gradient).</summary>
    public static PropagationRules Parse(string name, bool residualSaes = false)
    {
        var key = name.Trim().ToLowerInvariant();
        if (key == Replacement) return residualSaes ? PropagationRules.RelPAh with { Half = true } : PropagationRules.RelPAh with { CutMlp = true };
        if (key == IntegratedGradients)
            return residualSaes
                ? throw new RelpSaeException("method ig moves the MLP outputs' nodes along its path, and a graph over residual-stream SAEs has none: use replacement, gradient or a RelP preset")
                : PropagationRules.Gradient with { CutMlp = true };
        try { return PropagationRules.Parse(key) with { CutMlp = !residualSaes }; }
        catch (RelpSaeException e)
        {
            throw new RelpSaeException($"unknown graph method \"{name}\": use {Replacement}, gradient, {IntegratedGradients}, a RelP preset ({string.Join(", ", PropagationRules.Presets.Keys.Where(k => k != "gradient"))}) or a comma list of rules ({string.Join(", ", PropagationRules.RuleNames)})", e);
        }
    }

    /// <summary>Backward rows a target costs under the method: <paramref name="igSteps"/> for ig, one for the rest.</summary>
    public static int RowsPerTarget(string name, int igSteps) => IsIntegratedGradients(name) ? igSteps : 1;

    /// <summary>
    /// The graph under the method named; <paramref name="progress"/> hears the backward rows done (<see cref="RowsPerTarget"/>
    /// a target). With <paramref name="sameFeaturesAs"/> (a graph of the same setup) it keeps that graph's feature nodes, so
    /// that the two compare edge by edge; otherwise its own most influential ones.
    /// </summary>
    public static AttributionGraph Build(GraphSetup setup, string name, int igSteps, Action<int>? progress = null, CancellationToken cancel = default,
        AttributionGraph? sameFeaturesAs = null)
    {
        var rules = Parse(name, setup.ResidualSaes);   // refuses a method the setup's dictionaries cannot take
        return IsIntegratedGradients(name)
            ? GraphIntegratedGradients.Build(setup, igSteps, progress, cancel, sameFeaturesAs)
            : GraphAttribution.Build(setup, rules, name, progress, cancel, sameFeaturesAs);
    }

    private static bool IsIntegratedGradients(string name) => name.Trim().ToLowerInvariant() == IntegratedGradients;
}
