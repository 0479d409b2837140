using System.Text.Json;
using System.Text.Json.Nodes;

namespace RelpSae.Sae;

/// <summary>
/// SAELens' cfg.json, both eras. Before 6.0 everything sat at the top level (hook_point or hook_name,
/// activation_fn_str "relu"/"topk" with activation_fn_kwargs {"k": …}, boolean or string
/// normalize_activations); 6.x keeps the SAE's own fields at the top (d_in, d_sae, architecture, k,
/// apply_b_dec_to_input, normalize_activations, …) and the model/hook/data facts in a <c>metadata</c> block.
/// We read both and write 6.x.
/// </summary>
public static class SaeLensConfig
{
    /// <summary>The SAELens release whose layout we write: SAELens reads a file without a 6.x version as
    /// pre-6.0 and would drop the metadata block.</summary>
    public const string LayoutVersion = "6.0.0";

    // Keys this type models; all other metadata (or, pre-6.0, top-level) keys go to SaeConfig.Extra.
    private static readonly HashSet<string> TopLevelKeys =
    [
        "architecture", "d_in", "d_sae", "k", "activation_fn_str", "activation_fn", "activation_fn_kwargs",
        "apply_b_dec_to_input", "normalize_activations", "reshape_activations", "dtype", "device", "metadata",
        "rescale_acts_by_decoder_norm", "use_sparse_activations", "hook_point", "hook_name", "hook_point_layer",
        "hook_layer", "hook_point_head_index", "hook_head_index", "model_name", "context_size", "prepend_bos",
        "dataset_path", "finetuning_scaling_factor",
    ];
    private static readonly HashSet<string> MetadataKeys =
        ["hook_name", "hook_head_index", "model_name", "context_size", "prepend_bos", "dataset_path"];

    public static SaeConfig Parse(string json, string source)
    {
        JsonObject root;
        try
        {
            root = JsonNode.Parse(json) as JsonObject
                ?? throw new RelpSaeException($"{source}: expected a JSON object");
        }
        catch (JsonException e)
        {
            throw new RelpSaeException($"{source}: not valid JSON ({e.Message})", e);
        }
        var metadata = root["metadata"] as JsonObject;
        JsonNode? Get(string key) => metadata?[key] ?? root[key];

        string activation = String(root, "activation_fn_str", source) ?? String(root, "activation_fn", source) ?? "relu";
        string architectureName = String(root, "architecture", source) ?? "standard";
        var architecture = (architectureName, activation) switch
        {
            ("standard", "relu") => SaeArchitecture.Standard,
            ("standard" or "topk", "topk") or ("topk", "relu") => SaeArchitecture.TopK,
            ("jumprelu", "relu" or "jumprelu") => SaeArchitecture.JumpRelu,
            ("standard" or "jumprelu" or "topk", _) =>
                throw new RelpSaeException($"{source}: activation function '{activation}' is not supported (relu or topk)"),
            _ => throw new RelpSaeException(
                $"{source}: SAE architecture '{architectureName}' is not supported (standard, jumprelu or topk)"),
        };

        int k = 0;
        if (architecture == SaeArchitecture.TopK)
            k = Int(root, "k", source) ?? Int(root["activation_fn_kwargs"] as JsonObject, "k", source)
                ?? throw new RelpSaeException($"{source}: topk SAE without k (neither 'k' nor activation_fn_kwargs.k)");

        if (Get("hook_head_index") is { } head && head.GetValueKind() != JsonValueKind.Null)
            throw new RelpSaeException($"{source}: hook_head_index {head.ToJsonString()} (per-head SAEs) is not supported");
        if ((String(root, "reshape_activations", source) ?? "none") != "none")
            throw new RelpSaeException($"{source}: reshape_activations '{root["reshape_activations"]}' is not supported");
        if (Bool(root, "rescale_acts_by_decoder_norm", source) == true)
            throw new RelpSaeException($"{source}: rescale_acts_by_decoder_norm true is not supported");

        // Unknown keys survive a round trip under metadata.
        var extra = new JsonObject();
        if (metadata is not null)
        {
            foreach (var (key, value) in metadata)
                if (!MetadataKeys.Contains(key)) extra[key] = value?.DeepClone();
        }
        else
        {
            foreach (var (key, value) in root)
                if (!TopLevelKeys.Contains(key)) extra[key] = value?.DeepClone();
        }

        var config = new SaeConfig
        {
            Architecture = architecture,
            DIn = Int(root, "d_in", source) ?? throw new RelpSaeException($"{source}: missing d_in"),
            DSae = Int(root, "d_sae", source) ?? throw new RelpSaeException($"{source}: missing d_sae"),
            K = k,
            ApplyBDecToInput = Bool(root, "apply_b_dec_to_input", source) ?? true,
            NormalizeActivations = NormalizeMode(root["normalize_activations"], source),
            HookName = String(metadata, "hook_name", source) ?? String(root, "hook_name", source) ?? String(root, "hook_point", source),
            ModelName = String(metadata, "model_name", source) ?? String(root, "model_name", source),
            ContextSize = Int(metadata, "context_size", source) ?? Int(root, "context_size", source),
            PrependBos = Bool(metadata, "prepend_bos", source) ?? Bool(root, "prepend_bos", source),
            DatasetPath = String(metadata, "dataset_path", source) ?? String(root, "dataset_path", source),
            Extra = extra,
        };
        config.Validate(source);
        return config;
    }

    /// <summary>cfg.json in SAELens 6.x's layout and key order.</summary>
    public static string Write(SaeConfig config)
    {
        config.Validate("SAE config");
        var metadata = new JsonObject { ["sae_lens_version"] = LayoutVersion };
        Put(metadata, "model_name", config.ModelName);
        Put(metadata, "hook_name", config.HookName);
        metadata["hook_head_index"] = null;
        Put(metadata, "context_size", config.ContextSize);
        Put(metadata, "prepend_bos", config.PrependBos);
        Put(metadata, "dataset_path", config.DatasetPath);
        foreach (var (key, value) in config.Extra)
            metadata[key] = value?.DeepClone();

        var root = new JsonObject
        {
            ["d_in"] = config.DIn,
            ["d_sae"] = config.DSae,
            ["dtype"] = "float32",
            ["device"] = "cpu",
            ["apply_b_dec_to_input"] = config.ApplyBDecToInput,
            ["normalize_activations"] = config.NormalizeActivations,
            ["reshape_activations"] = "none",
            ["metadata"] = metadata,
        };
        if (config.Architecture == SaeArchitecture.TopK)
        {
            root["k"] = config.K;
            root["rescale_acts_by_decoder_norm"] = false;
        }
        root["architecture"] = ArchitectureName(config.Architecture);
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = true });
    }

    public static string ArchitectureName(SaeArchitecture architecture) => architecture switch
    {
        SaeArchitecture.Standard => "standard",
        SaeArchitecture.JumpRelu => "jumprelu",
        SaeArchitecture.TopK => "topk",
        _ => throw new ArgumentOutOfRangeException(nameof(architecture)),
    };

    private static string NormalizeMode(JsonNode? node, string source) => node?.GetValueKind() switch
    {
        null or JsonValueKind.Null or JsonValueKind.False => "none",
        JsonValueKind.True => "expected_average_only_in",
        JsonValueKind.String => node.GetValue<string>(),
        _ => throw new RelpSaeException($"{source}: normalize_activations must be a string or a boolean"),
    };

    private static void Put(JsonObject target, string key, JsonNode? value)
    {
        if (value is not null) target[key] = value;
    }

    private static JsonNode? Present(JsonObject? obj, string key) =>
        obj?[key] is { } node && node.GetValueKind() != JsonValueKind.Null ? node : null;

    private static string? String(JsonObject? obj, string key, string source) => Present(obj, key) switch
    {
        null => null,
        JsonValue v when v.GetValueKind() == JsonValueKind.String => v.GetValue<string>(),
        _ => throw new RelpSaeException($"{source}: '{key}' must be a string"),
    };

    private static bool? Bool(JsonObject? obj, string key, string source) => Present(obj, key)?.GetValueKind() switch
    {
        null => null,
        JsonValueKind.True => true,
        JsonValueKind.False => false,
        _ => throw new RelpSaeException($"{source}: '{key}' must be true or false"),
    };

    private static int? Int(JsonObject? obj, string key, string source)
    {
        if (Present(obj, key) is not JsonValue v) return null;
        // Some releases write integral floats (e.g. "k": 32.0).
        if (v.GetValueKind() == JsonValueKind.Number && v.TryGetValue(out double d) && d == Math.Floor(d) && Math.Abs(d) <= int.MaxValue)
            return (int)d;
        throw new RelpSaeException($"{source}: '{key}' must be an integer");
    }
}
