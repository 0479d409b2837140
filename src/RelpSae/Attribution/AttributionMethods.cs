using RelpSae.Lrp;

namespace RelpSae.Attribution;

/// <summary>Method names on the command line → method objects.</summary>
public static class AttributionMethods
{
    public const string Names = "gradient, ig, relp, relp-ah, attnlrp, or a propagation rule list such as ln+identity+half-attn";

    /// <summary>
    /// A comma list of methods: gradient, ig (integrated gradients), a rule preset (relp, relp-ah, attnlrp),
    /// or a custom rule set written with '+' (e.g. ln+identity), which runs as the rule-modified gradient under that name.
    /// </summary>
    public static IReadOnlyList<IAttributionMethod> Parse(string list, int igSteps = 32, QuadratureRule quadrature = QuadratureRule.Midpoint)
    {
        var methods = new List<IAttributionMethod>();
        foreach (var raw in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var name = raw.ToLowerInvariant();
            IAttributionMethod method = name switch
            {
                "ig" => new IntegratedGradients(igSteps, quadrature),
                _ when PropagationRules.Presets.TryGetValue(name, out var preset) => new GradientMethod(name, preset),
                _ when name.Contains('+') || PropagationRules.RuleNames.Contains(name) =>
                    new GradientMethod(name, PropagationRules.Parse(name.Replace('+', ','))),
                _ => throw new SettingException(name => $"unknown method \"{raw}\" in {name(Setting.Methods)}: use {Names}"),
            };
            if (methods.Any(m => m.Name == method.Name)) throw new SettingException(name => $"method \"{raw}\" is listed twice in {name(Setting.Methods)}");
            methods.Add(method);
        }
        if (methods.Count == 0) throw new SettingException(name => $"{name(Setting.Methods)} is empty: use {Names}");
        return methods;
    }

    /// <summary>
    /// The rules in force for a method, by its name as outputs list it ("exact gradient" for gradient and ig).
    /// <paramref name="gatedMlp"/>: whether the model has a gated MLP for the Half-rule to act on.
    /// </summary>
    public static string DescribeRules(string method, bool gatedMlp) => Parse(method)[0].Rules.Describe(gatedMlp);
}
