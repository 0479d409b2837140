using System.Text.Json.Nodes;

namespace RelpSae.Cli;

/// <summary>
/// The options of an `evaluate` run that its records depend on (not --batch, --shard or --out), as
/// recorded in evaluation_settings.json: --resume and merge refuse records made with other values.
/// </summary>
internal sealed record EvaluateSettings(
    string Model, string Sae, string Hook, string? Prompts, string? Task, int N, int Seed,
    IReadOnlyList<string> Methods, int IgSteps, string? Metric, string? Baseline, int? PatchPosition,
    bool CenterWritingWeights, bool PrependBos)
{
    public JsonObject ToJson() => new()
    {
        ["model"] = Path.GetFullPath(Model),
        ["sae"] = Path.GetFullPath(Sae),
        ["hook"] = Hook,
        ["prompts"] = Prompts is null ? null : Path.GetFullPath(Prompts),
        // A built-in task's prompts depend on its size and seed; a prompt file's do not.
        ["task"] = Prompts is null ? (Task ?? "contrastive").ToLowerInvariant() : null,
        ["n"] = Prompts is null ? N : null,
        ["seed"] = Prompts is null ? Seed : null,
        ["methods"] = string.Join(",", Methods),
        ["ig_steps"] = Methods.Contains("ig") ? IgSteps : null,
        ["metric"] = Metric?.ToLowerInvariant() ?? "auto",
        ["baseline"] = Baseline?.ToLowerInvariant() ?? "auto",
        ["patch_position"] = PatchPosition,
        ["center_writing_weights"] = CenterWritingWeights,
        ["prepend_bos"] = PrependBos,
    };
}
