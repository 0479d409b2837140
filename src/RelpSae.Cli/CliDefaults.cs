using System.CommandLine;

namespace RelpSae.Cli;

/// <summary>Options shared by the commands that load a model or an SAE, defaulting to the embedded ones.</summary>
public static class CliDefaults
{
    public static string EmbeddedModel => Path.Combine(AppContext.BaseDirectory, "models", "default", "model");
    public static string EmbeddedSae => Path.Combine(AppContext.BaseDirectory, "models", "default", "sae");

    public static Option<string> ModelOption() => new("--model")
    {
        Description = "Hugging Face GPT-2 folder (config.json, model.safetensors or pytorch_model.bin, tokenizer files). Default: the embedded tarot GPT-2.",
        DefaultValueFactory = _ => EmbeddedModel,
    };

    public static Option<string> SaeOption() => new("--sae")
    {
        Description = "SAELens folder (cfg.json + sae_weights.safetensors). Default: the embedded SAE.",
        DefaultValueFactory = _ => EmbeddedSae,
    };

    public static Option<bool> CenterOption() => new("--center-writing-weights")
    {
        Description = "Centre the weights that write to the residual stream (TransformerLens' center_writing_weights), as the public GPT-2 small residual SAEs expect.",
    };

    public static Option<bool> PrependBosOption() => new("--prepend-bos")
    {
        Description = "Prepend <|endoftext|> to the prompt, as TransformerLens does by default.",
    };

    /// <summary>A folder that exists, else a Hub name resolved through the Hugging Face cache (see HubNames), with a clear error naming the option.</summary>
    public static string ExistingFolder(string path, string option)
    {
        if (Directory.Exists(path)) return path;
        if (path == EmbeddedModel || path == EmbeddedSae)
            throw new RelpSaeException($"the embedded default is missing from {path}: pass {option} DIR");
        return HubNames.Resolve(path, option) ?? throw new RelpSaeException($"{option}: folder not found: {path}");
    }
}
