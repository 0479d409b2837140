using RelpSae.Lrp;

namespace RelpSae.Graphs;

/// <summary>
/// How an attribution graph's edges are computed. Over transcoders every method cuts the MLPs (their outputs are graph
/// nodes) and differs in what the rest of the backward pass does. replacement (circuit-tracer's local replacement
/// model): attention patterns and norm scales frozen, the LN- and AH-rules; gradient: the exact gradient of the spliced
/// model; any RelP preset or rule list: those rules. Over residual-stream SAEs the edges pass through the MLPs, so none
/// is cut, and replacement freezes the MLPs' gates too: the Identity-rule on the activation, the Half-rule on a gated
/// MLP's product (ln, identity, ah, half).
/// </summary>
public static class GraphMethod
{
    public const string Replacement = "replacement";

    public static PropagationRules Parse(string name, bool residualSaes = false)
    {
        var key = name.Trim().ToLowerInvariant();
        if (key == Replacement) return residualSaes ? PropagationRules.RelPAh with { Half = true } : PropagationRules.RelPAh with { CutMlp = true };
        if (key == "ig") throw new RelpSaeException("method ig (integrated gradients) is not available for attribution graphs yet: use replacement, gradient or a RelP preset");
        try { return PropagationRules.Parse(key) with { CutMlp = !residualSaes }; }
        catch (RelpSaeException e)
        {
            throw new RelpSaeException($"unknown graph method \"{name}\": use {Replacement}, gradient, a RelP preset ({string.Join(", ", PropagationRules.Presets.Keys.Where(k => k != "gradient"))}) or a comma list of rules ({string.Join(", ", PropagationRules.RuleNames)})", e);
        }
    }
}
