using System.CommandLine;
using RelpSae.Numerics;

namespace RelpSae.Cli;

/// <summary>Options shared by the commands that load a model or an SAE, defaulting to the embedded ones.</summary>
public static class CliDefaults
{
    public static string EmbeddedModel => Path.Combine(AppContext.BaseDirectory, "models", "default", "model");
    public static string EmbeddedSae => Path.Combine(AppContext.BaseDirectory, "models", "default", "sae");
    public static string EmbeddedTranscoders => Path.Combine(AppContext.BaseDirectory, "models", "default", "transcoders");

    public static Option<string> ModelOption() => new("--model")
    {
        Description = "A Hugging Face model folder (config.json, weights, tokenizer files if any) or a Hub name such as gpt2 or org/name@revision: GPT-2, Llama / Qwen2 / Mistral, Qwen3, Gemma-2, Gemma 3 or GPT-NeoX. [default: the embedded tarot GPT-2]",
    };

    /// <summary>--sae; where <paramref name="transcoders"/>, the command also takes a transcoder's file.</summary>
    public static Option<string> SaeOption(bool transcoders = false) => new("--sae")
    {
        Description = "SAELens folder (cfg.json + sae_weights.safetensors), a Llama Scope folder (hyperparams.json + checkpoints/final.safetensors), a Gemma Scope params.npz, a Gemma Scope 2 params.safetensors or a dictionary_learning ae.pt; or a Hub name"
            + (transcoders ? "; or a transcoder: circuit-tracer's layer_N.safetensors beside its config.yaml, a Gemma Scope (2) transcoders params.npz (params.safetensors), a SAELens transcoder folder, "
                + "or (attribute) a cross-layer transcoder's folder of W_enc_i/W_dec_i.safetensors" : "")
            + ". [default: the embedded SAE]",
    };

    // No DefaultValueFactory on --model and --sae: help would print the build folder as the default.
    /// <summary>The --model folder, or the embedded model when none is given.</summary>
    public static string ModelPath(string? given) => given ?? EmbeddedModel;

    /// <summary>The --sae folder, or the embedded SAE when none is given.</summary>
    public static string SaePath(string? given) => given ?? EmbeddedSae;

    /// <summary>What a model's weight matrices are held as: the one option every command that loads a model reads.</summary>
    public static readonly Option<string> DType = new("--dtype")
    {
        Description = "What to hold a model's weight matrices in: auto (as the checkpoint stores them: bfloat16 and float16 stay 16-bit, exactly), "
            + "bf16 (round float32 weights to bfloat16 at load: half the memory, not exact) or f32 (widen everything to float32). Computation is float32 either way.",
        DefaultValueFactory = _ => "auto",
        Recursive = true,
    };

    /// <summary>--dtype of this invocation (set once the command line is parsed): null keeps each checkpoint's own width.</summary>
    public static PanelElement? Holding { get; private set; }

    /// <summary>Reads --dtype; refuses, in one line, what it does not know.</summary>
    internal static void ReadDType(ParseResult parse) => Holding = parse.GetValue(DType) switch
    {
        "auto" or null => null,
        "bf16" or "bfloat16" => PanelElement.BFloat16,
        "f32" or "float32" => PanelElement.Float32,
        var other => throw new RelpSaeException($"--dtype: '{other}' is not one of auto, bf16 (bfloat16), f32 (float32)"),
    };

    public static Option<bool> CenterOption() => new("--center-writing-weights")
    {
        Description = "Centre the weights that write to the residual stream (TransformerLens' center_writing_weights), as the public GPT-2 small residual SAEs expect.",
    };

    public static Option<bool> PrependBosOption() => new("--prepend-bos")
    {
        Description = "Prepend <|endoftext|> to the prompt, as TransformerLens does by default.",
    };

    /// <summary>Whether <paramref name="path"/> lies in the tool's own models/ folder, which no command may write into.</summary>
    public static bool IsEmbedded(string path)
    {
        var models = Path.TrimEndingDirectorySeparator(Path.GetFullPath(Path.Combine(AppContext.BaseDirectory, "models")));
        var full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        return full == models || full.StartsWith(models + Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    /// <summary>An SAE: a Gemma Scope .npz, Gemma Scope 2 params.safetensors or dictionary_learning .pt file as given, else a folder as <see cref="ExistingFolder"/>.</summary>
    public static string ExistingSae(string path) => Sae.SaeFiles.IsCommunityFile(path) || Sae.TranscoderFiles.IsTranscoder(path) ? path : ExistingFolder(path, "--sae");

    /// <summary>The folder an SAE's side files (feature summaries, means) live in: the SAE folder, or a community file's folder.</summary>
    public static string SaeFolder(string sae) => Directory.Exists(sae) ? sae : Path.GetDirectoryName(Path.GetFullPath(sae))!;

    /// <summary>The feature means beside an SAE (for --baseline mean); when missing, the eval-sae command that writes them.</summary>
    public static float[] FeatureMeansOf(string saeDir)
    {
        var path = Path.Combine(saeDir, Sae.FeatureMeans.FileName);
        if (!File.Exists(path)) throw new RelpSaeException($"{path} is missing: run `relp-sae eval-sae --sae {saeDir} ...` to compute the feature means");
        return Sae.FeatureMeans.Load(saeDir);
    }

    /// <summary>A folder that exists, else a Hub name resolved through the Hugging Face cache (see HubNames), with a clear error naming the option.</summary>
    public static string ExistingFolder(string path, string option)
    {
        if (Directory.Exists(path)) return path;
        if (path == EmbeddedModel || path == EmbeddedSae)
            throw new RelpSaeException($"the embedded default is missing from {path}: pass {option} DIR");
        return HubNames.Resolve(path, option) ?? throw new RelpSaeException($"{option}: folder not found: {path}");
    }
}
