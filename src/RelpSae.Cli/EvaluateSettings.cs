using System.Text.Json.Nodes;

namespace RelpSae.Cli;

/// <summary>
/// The options of an `evaluate` run that its records depend on (not --batch, --shard or --out), as
/// recorded in evaluation_settings.json: --resume and merge refuse records made with other values.
/// The SAE and its hook are null at --level components; with --circuit they list every SAE and hook, and
/// <see cref="Components"/> says what a node is; at --level features <see cref="Components"/> is null.
/// </summary>
internal sealed record EvaluateSettings(
    string Level, string Model, string? Sae, string? Hook, string? Components, string? Prompts, string? Task, int N, int Seed,
    IReadOnlyList<string> Methods, int IgSteps, string? Metric, string? Baseline, int? PatchPosition,
    bool CenterWritingWeights, bool PrependBos)
{
    public JsonObject ToJson() => new()
    {
        ["level"] = Level,
        ["model"] = Location(Model),
        ["sae"] = Sae is null ? null : Location(Sae),
        ["hook"] = Hook,
        ["components"] = Components,
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

    /// <summary>Folders by their full paths; a Hugging Face name (gpt2, org/name@rev) as written.</summary>
    private static string Location(string value) =>
        string.Join(",", value.Split(',').Select(v => Directory.Exists(v) ? Path.GetFullPath(v) : v));
}
