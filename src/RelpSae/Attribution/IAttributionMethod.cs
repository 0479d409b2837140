using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Attribution;

/// <summary>
/// An attribution method is a way to get one gradient-like vector at the hook: every feature's score is
/// then (f − f′)·(g·W_decᵀ) and the error node's (ε − ε′)·g (<see cref="Attributor"/>).
/// </summary>
public interface IAttributionMethod
{
    /// <summary>"gradient", "ig", "relp", "relp-ah", or a rule list.</summary>
    string Name { get; }

    /// <summary>The propagation rules of its backward passes (<see cref="PropagationRules.Gradient"/> for the exact gradient).</summary>
    PropagationRules Rules { get; }

    /// <summary>The vector g [tokens × d] at the splice's hook.</summary>
    float[] HookGradient(SaeSplice splice, Metric metric);
}
