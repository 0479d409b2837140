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

    /// <summary>The propagation rules in force (empty for the exact gradient).</summary>
    IReadOnlyList<string> Rules { get; }

    /// <summary>The vector g [tokens × d] at the splice's hook.</summary>
    float[] HookGradient(SaeSplice splice, Metric metric);
}
