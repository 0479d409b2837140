using RelpSae.Model;

namespace RelpSae.Lrp;

/// <summary>Which of the rules in force have something to act on in a given model (DESIGN §4: say when one has not).</summary>
public static class RuleApplicability
{
    /// <summary>The names of rules in force that change nothing on this model: the Half-rule without a gated MLP.</summary>
    public static IReadOnlyList<string> WithoutEffect(this PropagationRules rules, ModelFacts model) =>
        rules.Half && !model.GatedMlp ? ["half"] : [];
}
