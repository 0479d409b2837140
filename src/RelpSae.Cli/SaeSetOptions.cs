using System.CommandLine;

namespace RelpSae.Cli;

/// <summary>The options of commands that splice several dictionaries at once (circuits), defaulting to the embedded per-block SAEs.</summary>
public static class SaeSetOptions
{
    public static string EmbeddedSaes => Path.Combine(AppContext.BaseDirectory, "models", "default", "saes");

    public static Option<string?> SaesOption() => new("--saes")
    {
        Description = "Several dictionaries spliced at once, in any mix, at most one per site: SAEs at residual hooks, hook_attn_out or hook_mlp_out, and transcoders in place of MLPs. " +
                      "A comma list of SAE or transcoder folders (or Gemma Scope .npz / Gemma Scope 2 params.safetensors / dictionary_learning .pt / circuit-tracer layer_N.safetensors files), " +
                      "each entry possibly a folder with one dictionary per subfolder. " +
                      "Default for `evaluate --circuit`: the embedded SAEs at every block's hook_resid_post.",
    };

    public static Option<bool> PerPositionOption() => new("--per-position")
    {
        Description = "With several SAEs: a node is a feature (or error node) at one position, not summed over positions.",
    };

    /// <summary>The --saes value, or the embedded set (with a clear error when it is missing).</summary>
    public static string Folders(string? value)
    {
        if (value is not null) return value;
        if (!Directory.Exists(EmbeddedSaes)) throw new RelpSaeException($"the embedded per-block SAEs are missing from {EmbeddedSaes}: pass --saes");
        return EmbeddedSaes;
    }
}
