using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Attribution;

/// <summary>
/// Attribution patching (the plain gradient) and RelP (the same product with the rule-modified
/// backward pass): one forward from the hook and one backward pass at the clean activation.
/// </summary>
public sealed class GradientMethod(string name, PropagationRules rules) : IAttributionMethod
{
    public static readonly GradientMethod Gradient = new("gradient", PropagationRules.Gradient);
    public static readonly GradientMethod RelP = new("relp", PropagationRules.RelP);
    public static readonly GradientMethod RelPAh = new("relp-ah", PropagationRules.RelPAh);
    public static readonly GradientMethod AttnLrp = new("attnlrp", PropagationRules.AttnLrp);

    public string Name { get; } = name;
    public PropagationRules Rules { get; } = rules;

    public float[] HookGradient(SaeSplice splice, Metric metric) =>
        splice.Downstream.Backward(splice.Clean, 1, splice.Tokens, metric, Rules);
}
