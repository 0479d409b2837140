using System.Text.Json.Nodes;

namespace RelpSae.Sae;

/// <summary>
/// What an SAE is and where it belongs: its shape and activation (the fields SAELens keeps at the top of
/// cfg.json) and the model, hook and data it was trained on (SAELens 6's <c>metadata</c> block).
/// </summary>
public sealed record SaeConfig
{
    public required SaeArchitecture Architecture { get; init; }
    public required int DIn { get; init; }
    public required int DSae { get; init; }
    /// <summary>Active features per row for <see cref="SaeArchitecture.TopK"/>; unused otherwise.</summary>
    public int K { get; init; }
    /// <summary>Subtract b_dec from the input before encoding (SAELens' default).</summary>
    public bool ApplyBDecToInput { get; init; } = true;
    /// <summary>"none", or "expected_average_only_in" (SAELens applies no run-time operation for it either:
    /// the scale is meant to be folded into the weights).</summary>
    public string NormalizeActivations { get; init; } = "none";

    /// <summary>TransformerLens hook name, e.g. <c>blocks.6.hook_resid_pre</c>.</summary>
    public string? HookName { get; init; }
    public string? ModelName { get; init; }
    public int? ContextSize { get; init; }
    public bool? PrependBos { get; init; }
    public string? DatasetPath { get; init; }

    /// <summary>Every other metadata key (SAELens' or ours: training data, packing, command), kept as written.</summary>
    public JsonObject Extra { get; init; } = [];

    /// <summary>Throws a one-line <see cref="RelpSaeException"/> if the shape or activation is impossible.</summary>
    public void Validate(string source)
    {
        if (DIn <= 0 || DSae <= 0)
            throw new RelpSaeException($"{source}: d_in and d_sae must be positive (got d_in {DIn}, d_sae {DSae})");
        if (Architecture == SaeArchitecture.TopK && (K <= 0 || K > DSae))
            throw new RelpSaeException($"{source}: topk SAE needs 1 <= k <= d_sae (got k {K}, d_sae {DSae})");
        if (NormalizeActivations is not ("none" or "expected_average_only_in"))
            throw new RelpSaeException(
                $"{source}: normalize_activations '{NormalizeActivations}' is not supported (use 'none' or 'expected_average_only_in')");
    }
}
