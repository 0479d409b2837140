namespace RelpSae.Lrp;

/// <summary>
/// Which operations the backward pass replaces with a propagation rule (DESIGN §4). All off is the
/// exact gradient. The presets are data: <see cref="Presets"/> maps each name to its rules.
/// <see cref="Half"/> is the Half-rule on a gated MLP's gate·up product only (nothing to act on in GPT-2);
/// <see cref="HalfAttention"/> ("half-attn") is AttnLRP's uniform split of the attention products.
/// </summary>
public sealed record PropagationRules(bool LayerNorm, bool Identity, bool AttentionHead, bool Half, bool HalfAttention = false)
{
    public static readonly PropagationRules Gradient = new(false, false, false, false);
    /// <summary>RelP as usually published: LN-rule, Identity-rule, Half-rule.</summary>
    public static readonly PropagationRules RelP = new(true, true, false, true);
    /// <summary>The CP-LRP variant: LN-rule, Identity-rule, AH-rule.</summary>
    public static readonly PropagationRules RelPAh = new(true, true, true, false);

    public static readonly IReadOnlyDictionary<string, PropagationRules> Presets = new Dictionary<string, PropagationRules>
    {
        ["gradient"] = Gradient,
        ["relp"] = RelP,
        ["relp-ah"] = RelPAh,
    };

    private static readonly string[] RuleNames = ["ln", "identity", "ah", "half", "half-attn"];

    /// <summary>The AH-rule freezes the attention pattern, so half-attn has nothing left to split: AH wins.</summary>
    public bool HalfOverridden => HalfAttention && AttentionHead;

    /// <summary>The attention backward these rules call for.</summary>
    public AttentionShares Attention =>
        AttentionHead ? AttentionShares.AttentionHeadRule : HalfAttention ? AttentionShares.HalfRule : AttentionShares.Gradient;

    /// <summary>Names of the rules actually in force ("ln", "identity", "ah", "half", "half-attn").</summary>
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
            return names;
        }
    }

    /// <summary>A preset name (gradient, relp, relp-ah) or a comma list of rules (ln,identity,ah,half,half-attn; "none" for none).</summary>
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
