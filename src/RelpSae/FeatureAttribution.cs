using RelpSae.Attribution;

namespace RelpSae;

/// <summary>What <see cref="Relp.Attribute"/> found: the prompt as resolved, the full-patch change Δm, and each method's scores.</summary>
public sealed record FeatureAttribution(ResolvedPrompt Prompt, double FullPatchDelta, IReadOnlyList<AttributionResult> Methods);
