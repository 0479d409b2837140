using RelpSae.Attribution;

namespace RelpSae;

/// <summary>What <see cref="Relp.Evaluate"/> measured: each prompt's record and each method's summary.</summary>
public sealed record FaithfulnessReport(IReadOnlyList<PromptEvaluation> Prompts, IReadOnlyList<MethodSummary> Methods);
