using System.Text.Json.Nodes;

namespace RelpSae.Sae;

/// <summary>
/// Where a trained SAE's activations came from, recorded in its cfg.json: the SAELens metadata fields,
/// plus any keys of our own (training data, packing options, the command line) in <see cref="Extra"/>.
/// </summary>
public sealed record SaeProvenance(
    string? HookName = null, string? ModelName = null, int? ContextSize = null, bool? PrependBos = null,
    string? DatasetPath = null, JsonObject? Extra = null);
