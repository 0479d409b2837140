namespace RelpSae.Lrp;

/// <summary>
/// Which operations the backward pass replaces with a propagation rule (docs/methods.md §4). All off is the
/// exact gradient. <see cref="LayerNorm"/>: the norm's scale frozen (LayerNorm's σ, RMSNorm's rms);
/// <see cref="Identity"/>: the activation's gate frozen; <see cref="AttentionHead"/>: the attention
/// pattern frozen; <see cref="Half"/>: the gate·up product of a gated MLP splits its gradient in half
/// (the seed's Half-rule: nothing to act on in GPT-2); <see cref="HalfAttention"/>: AttnLRP's uniform
/// split of the attention products; <see cref="CutMlp"/>: no gradient passes through an MLP (an attribution graph's replacement
/// model, where each MLP's output is made of graph nodes). The presets are data: <see cref="Presets"/> maps each name to its rules.
/// </summary>
public sealed record PropagationRules(bool LayerNorm, bool Identity, bool AttentionHead, bool Half, bool HalfAttention = false, bool CutMlp = false)
{
    public static readonly PropagationRules Gradient = new(false, false, false, false);
    /// <summary>The seed's RelP, rule list ['LN-rule', 'Identity-rule', 'Half-rule']: on GPT-2, LN + Identity with the exact attention gradient.</summary>
    public static readonly PropagationRules RelP = new(true, true, false, true);
    /// <summary>The CP-LRP variant: LN-rule, Identity-rule, AH-rule.</summary>
    public static readonly PropagationRules RelPAh = new(true, true, true, false);
    /// <summary>AttnLRP's uniform rule for attention with the LN- and Identity-rules, for comparison.</summary>
    public static readonly PropagationRules AttnLrp = new(true, true, false, false, HalfAttention: true);

    public static readonly IReadOnlyDictionary<string, PropagationRules> Presets = new Dictionary<string, PropagationRules>
    {
        ["gradient"] = Gradient,
        ["relp"] = RelP,
        ["relp-ah"] = RelPAh,
        ["attnlrp"] = AttnLrp,
    };

    public static readonly IReadOnlyList<string> RuleNames = ["ln", "identity", "ah", "half", "half-attn"];

    /// <summary>The AH-rule freezes the attention pattern, so half-attn has nothing left to split: AH wins.</summary>
    public bool HalfAttentionOverridden => HalfAttention && AttentionHead;

    /// <summary>The attention backward these rules call for.</summary>
    public AttentionShares Attention =>
        AttentionHead ? AttentionShares.AttentionHeadRule : HalfAttention ? AttentionShares.HalfRule : AttentionShares.Gradient;

    /// <summary>Names of the rules in force ("ln", "identity", "ah", "half", "half-attn"); half-attn is dropped when AH overrides it.</summary>
    public IReadOnlyList<string> InForce
    {
        get
        {
            var names = new List<string>();
            if (LayerNorm) names.Add("ln");
            if (Identity) names.Add("identity");
            if (AttentionHead) names.Add("ah");
            if (Half) names.Add("half");
            if (HalfAttention && !AttentionHead) names.Add("half-attn");
            if (CutMlp) names.Add("mlp-cut");
            return names;
        }
    }

    /// <summary>
    /// The rules in force for a model, as every output shows them: "ln+identity+half (half: no gated
    /// MLP in this model)", "exact gradient" when none, with a note for each rule that acts on nothing.
    /// </summary>
    public string Describe(bool gatedMlp)
    {
        if (InForce.Count == 0 && !HalfAttentionOverridden) return "exact gradient";
        var notes = new List<string>();
        if (Half && !gatedMlp) notes.Add("half: no gated MLP in this model");
        if (HalfAttentionOverridden) notes.Add("half-attn: overridden by ah");
        return string.Join("+", InForce) + (notes.Count > 0 ? $" ({string.Join("; ", notes)})" : "");
    }

    /// <summary>A preset name (gradient, relp, relp-ah, attnlrp) or a comma list of rules (ln,identity,ah,half,half-attn; "none" for none).</summary>
    public static PropagationRules Parse(string text)
    {
        var key = text.Trim().ToLowerInvariant();
        if (Presets.TryGetValue(key, out var preset)) return preset;
        if (key == "none") return Gradient;
        var parts = key.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        foreach (var p in parts)
            if (!RuleNames.Contains(p))
                throw new RelpSaeException($"unknown propagation rule \"{p}\" in \"{text}\": use a preset ({string.Join(", ", Presets.Keys)}) or a comma list of {string.Join(", ", RuleNames)}");
        if (parts.Length == 0) throw new RelpSaeException("empty rule list: use a preset or a comma list of rules");
        return new PropagationRules(parts.Contains("ln"), parts.Contains("identity"), parts.Contains("ah"), parts.Contains("half"), parts.Contains("half-attn"));
    }
}
