using RelpSae.Lrp;

namespace RelpSae.Attribution;

/// <summary>Method names on the command line → method objects.</summary>
public static class AttributionMethods
{
    public const string Names = "gradient, ig, relp, relp-ah, or a propagation rule list such as ln+identity+half";

    /// <summary>
    /// A comma list of methods: gradient, ig (integrated gradients), relp, relp-ah, or a custom rule set
    /// written with '+' (e.g. ln+identity), which runs as the rule-modified gradient under that name.
    /// </summary>
    public static IReadOnlyList<IAttributionMethod> Parse(string list, int igSteps = 32, QuadratureRule quadrature = QuadratureRule.Midpoint)
    {
        var methods = new List<IAttributionMethod>();
        foreach (var raw in list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var name = raw.ToLowerInvariant();
            IAttributionMethod method = name switch
            {
                "gradient" => GradientMethod.Gradient,
                "ig" => new IntegratedGradients(igSteps, quadrature),
                "relp" => GradientMethod.RelP,
                "relp-ah" => GradientMethod.RelPAh,
                _ when name.Contains('+') || name is "ln" or "identity" or "ah" or "half" =>
                    new GradientMethod(name, PropagationRules.Parse(name.Replace('+', ','))),
                _ => throw new RelpSaeException($"unknown method \"{raw}\" in --methods: use {Names}"),
            };
            if (methods.Any(m => m.Name == method.Name)) throw new RelpSaeException($"method \"{raw}\" is listed twice in --methods");
            methods.Add(method);
        }
        if (methods.Count == 0) throw new RelpSaeException($"--methods is empty: use {Names}");
        return methods;
    }
}
