using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using RelpSae.Formats;

namespace RelpSae.Sae;

/// <summary>
/// Transcoders on disk, in the formats their publishers use:
/// <list type="bullet">
/// <item>circuit-tracer's per-layer files: <c>layer_N.safetensors</c> beside the set's <c>config.yaml</c>, whose
/// feature_input_hook and feature_output_hook name the hooks without the blocks.N. prefix. Tensors: W_enc [d_sae, d_in],
/// W_dec [d_sae, d_out] (older files: [d_out, d_sae], told apart by b_dec [d_out]; a square one is read as the newer),
/// b_enc [d_sae], b_dec [d_out], optionally activation_function.threshold [d_sae] (JumpReLU; else ReLU) and W_skip
/// [d_out, d_in].</item>
/// <item>Gemma Scope's transcoders: a <c>params.npz</c> under a …transcoders…/layer_N/ folder (as in
/// google/gemma-scope-2b-pt-transcoders), Gemma Scope's JumpReLU reading blocks.N.ln2.hook_normalized and writing
/// blocks.N.hook_mlp_out, the hooks circuit-tracer and SAELens give them.</item>
/// <item>Gemma Scope 2's transcoders: a <c>params.safetensors</c> in a transcoder…/layer_N_… folder (as in
/// google/gemma-scope-2-1b-pt's transcoder_all/), read as Gemma Scope 2's SAEs are, reading blocks.N.mlp.hook_in (the
/// pre-feedforward norm's output, the hf_hook_point_in of their config.json) and writing blocks.N.hook_mlp_out (after the
/// post-feedforward norm); the affine ones' affine_skip_connection A [d_in, d_out] adds x·A, kept as W_skip = Aᵀ.</item>
/// <item>SAELens' transcoder folders: cfg.json with architecture transcoder, skip_transcoder or jumprelu_transcoder,
/// d_in, d_out, d_sae, hook_name and hook_name_out (top level or in metadata), and sae_weights.safetensors: W_enc
/// [d_in, d_sae], W_dec [d_sae, d_out], b_enc, b_dec [d_out], threshold [d_sae] (jumprelu), W_skip [d_out, d_in] (skip).
/// A TopK transcoder (SAELens has no architecture of that name) is a transcoder whose activation_fn is topk, with k.</item>
/// </list>
/// </summary>
public static class TranscoderFiles
{
    public const string CircuitTracerConfig = "config.yaml";
    public const string ThresholdTensor = "activation_function.threshold";

    /// <summary>Whether <paramref name="path"/> is a transcoder file: a .safetensors beside a config.yaml (not an SAE's own weights file), or a .npz in a folder whose name says transcoders.</summary>
    public static bool IsTranscoder(string path) => File.Exists(path) && (IsGemmaScope(path) || IsGemmaScope2(path) || IsCircuitTracer(path)) || SaeLensArchitecture(path) is not null;

    public static Transcoder Load(string path)
    {
        if (IsGemmaScope(path))
        {
            int layer = Layer(path, @"(?:^|/)layer_(\d+)/", "Gemma Scope's transcoders lie in layer_N/ folders");
            var dictionary = CommunitySaeFiles.LoadGemmaScope(path, $"blocks.{layer}.ln2.hook_normalized");
            return new Transcoder(dictionary, $"blocks.{layer}.ln2.hook_normalized", $"blocks.{layer}.hook_mlp_out");
        }
        if (IsGemmaScope2(path))
        {
            int layer = Layer(path, @"(?:^|/)layer_(\d+)_[^/]*/params\.safetensors$", "Gemma Scope 2's transcoders lie in layer_N_… folders");
            var (dictionary, affine) = CommunitySaeFiles.LoadGemmaScope2Transcoder(path, $"blocks.{layer}.mlp.hook_in");
            return new Transcoder(dictionary, $"blocks.{layer}.mlp.hook_in", $"blocks.{layer}.hook_mlp_out",
                affine is null ? null : CommunitySaeFiles.Transpose(affine, dictionary.DIn, dictionary.DIn));
        }
        if (SaeLensArchitecture(path) is { } architecture) return LoadSaeLens(SaeFiles.Folder(path), architecture);
        if (!IsCircuitTracer(path)) throw new RelpSaeException($"{path}: not a transcoder (a circuit-tracer layer_N.safetensors beside its {CircuitTracerConfig}, or a Gemma Scope transcoders params.npz)");
        return LoadCircuitTracer(path);
    }

    /// <summary>The architecture of the SAELens folder <paramref name="path"/> is (or lies in) when it names a transcoder; else null.</summary>
    private static string? SaeLensArchitecture(string path)
    {
        if (!Directory.Exists(path) && !File.Exists(path)) return null;
        string cfg = Path.Combine(SaeFiles.Folder(path), SaeFiles.ConfigFile);
        if (!File.Exists(cfg)) return null;
        try
        {
            return JsonNode.Parse(SideFile.ReadText(cfg)) is JsonObject root && root["architecture"] is JsonValue v && v.TryGetValue(out string? name)
                && name.EndsWith("transcoder", StringComparison.Ordinal) ? name : null;
        }
        catch (JsonException) { return null; }   // SaeFiles' reading of the cfg.json says what is wrong with it
    }

    /// <summary>
    /// A SAELens transcoder folder: cfg.json read as an SAE's of the base architecture (so the same keys are checked),
    /// then d_out and hook_name_out, the weights checked by the config before any is read and W_skip taken aside.
    /// </summary>
    private static Transcoder LoadSaeLens(string folder, string architecture)
    {
        string cfgPath = Path.Combine(folder, SaeFiles.ConfigFile), weightsPath = Path.Combine(folder, SaeFiles.WeightsFile);
        var root = (JsonObject)JsonNode.Parse(SideFile.ReadText(cfgPath))!;
        var metadata = root["metadata"] as JsonObject;
        string Text(string key) => (metadata?[key] ?? root[key]) is JsonValue v && v.TryGetValue(out string? s) ? s
            : throw new RelpSaeException($"{cfgPath}: no {key} (a transcoder's cfg.json names the hook it reads, hook_name, and the one it writes, hook_name_out)");
        string input = Text("hook_name"), output = Text("hook_name_out");
        int? dOut = root["d_out"] is JsonValue o && o.TryGetValue(out int d) ? d : null;
        bool skip = architecture == "skip_transcoder";
        root["architecture"] = architecture switch
        {
            "transcoder" or "skip_transcoder" => "standard",
            "jumprelu_transcoder" => "jumprelu",
            _ => throw new RelpSaeException($"{cfgPath}: transcoder architecture '{architecture}' is not supported (transcoder, skip_transcoder or jumprelu_transcoder)"),
        };
        root.Remove("d_out");
        root["apply_b_dec_to_input"] ??= false;
        var config = SaeLensConfig.Parse(root.ToJsonString(), cfgPath);
        if (config.ApplyBDecToInput) throw new RelpSaeException($"{cfgPath}: apply_b_dec_to_input is true, which a transcoder cannot have (its b_dec is an output bias)");
        if (dOut != config.DIn)
            throw new RelpSaeException($"{cfgPath}: d_out {(dOut is null ? "is missing" : $"{dOut}")}; only transcoders whose output is as wide as their input (d_in {config.DIn}, an MLP's) are supported");
        if (!File.Exists(weightsPath)) throw new RelpSaeException($"{weightsPath}: no such file");
        using var weights = SafetensorsFile.Open(weightsPath);
        SaeFiles.CheckBeforeReading(config, weights);
        var tensors = weights.ReadAll();
        float[]? wSkip = null;
        if (skip)
        {
            var s = tensors.Remove("W_skip", out var t) ? t : throw new RelpSaeException($"{weightsPath}: missing tensor 'W_skip' (a skip_transcoder's [d_out, d_in])");
            wSkip = s.Shape.SequenceEqual([config.DIn, config.DIn]) ? s.Data
                : throw new RelpSaeException($"{weightsPath}: tensor 'W_skip' has shape [{string.Join(", ", s.Shape)}] but cfg.json (d_in {config.DIn}, d_out {config.DIn}) needs [{config.DIn}, {config.DIn}]");
        }
        return new Transcoder(SparseAutoencoder.FromTensors(config, tensors.Values, weightsPath), input, output, wSkip);
    }

    /// <summary>
    /// Writes <paramref name="transcoder"/> into <paramref name="folder"/> as a SAELens transcoder folder (what
    /// <see cref="Load"/> reads back): the dictionary's weights and cfg.json under the transcoder architecture, with d_out and
    /// hook_name_out beside hook_name (a TopK one as a transcoder with activation_fn topk), and, if given, its log10 feature
    /// densities. A skip connection is not written.
    /// </summary>
    public static void Save(string folder, Transcoder transcoder, IReadOnlyList<float>? logSparsity = null)
    {
        if (transcoder.Skip is not null) throw new ArgumentException("writing a transcoder's skip connection is not supported", nameof(transcoder));
        var config = transcoder.Dictionary.Config with { HookName = transcoder.InputHook };
        var root = (JsonObject)JsonNode.Parse(SaeLensConfig.Write(config))!;
        root["d_out"] = transcoder.DIn;
        ((JsonObject)root["metadata"]!)["hook_name_out"] = transcoder.OutputHook;
        root["architecture"] = config.Architecture == SaeArchitecture.JumpRelu ? "jumprelu_transcoder" : "transcoder";
        if (config.Architecture == SaeArchitecture.TopK) root["activation_fn"] = "topk";
        SaeFiles.Save(folder, transcoder.Dictionary, logSparsity, root.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
    }

    /// <summary>Whether the name is a circuit-tracer layer file's, layer_N.safetensors, wherever it lies (on disk or in a Hub repository).</summary>
    public static bool IsCircuitTracerFileName(string path) => Regex.IsMatch(path.Replace('\\', '/'), LayerFile);

    private const string LayerFile = @"(?:^|/)layer_(\d+)\.safetensors$";

    private static bool IsGemmaScope(string path) =>
        path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase)
        && Path.GetDirectoryName(Path.GetFullPath(path))!.Contains("transcoder", StringComparison.OrdinalIgnoreCase);

    private static bool IsGemmaScope2(string path) =>
        Path.GetFileName(path) == CommunitySaeFiles.GemmaScope2File
        && Path.GetDirectoryName(Path.GetFullPath(path))!.Contains("transcoder", StringComparison.OrdinalIgnoreCase);

    private static bool IsCircuitTracer(string path) =>
        path.EndsWith(".safetensors", StringComparison.OrdinalIgnoreCase) && Path.GetFileName(path) is not (SaeFiles.WeightsFile or CommunitySaeFiles.GemmaScope2File)
        && File.Exists(ConfigBeside(path));

    private static string ConfigBeside(string path) => Path.Combine(Path.GetDirectoryName(Path.GetFullPath(path))!, CircuitTracerConfig);

    private static int Layer(string path, string pattern, string why)
    {
        var m = Regex.Match(path.Replace('\\', '/'), pattern);
        return m.Success && int.TryParse(m.Groups[1].Value, out int layer) ? layer
            : throw new RelpSaeException($"{path}: the path does not say which layer the transcoder stands in ({why})");
    }

    private static Transcoder LoadCircuitTracer(string path)
    {
        int layer = Layer(path, LayerFile, "circuit-tracer names its files layer_N.safetensors");
        string configPath = ConfigBeside(path);
        var config = TopLevelYaml(SideFile.ReadText(configPath, maxBytes: 1 << 20));
        string Hook(string key) => config.TryGetValue(key, out var name) && name.Length > 0 ? $"blocks.{layer}.{name}"
            : throw new RelpSaeException($"{configPath}: no {key} (the hook circuit-tracer's transcoders {(key.Contains("input") ? "read" : "write")})");
        string input = Hook("feature_input_hook"), output = Hook("feature_output_hook");

        using var file = SafetensorsFile.Open(path);
        var (dModel, dSae, encoderStored, decoderStored) = CheckCircuitTracer(file);
        bool jump = file.Contains(ThresholdTensor);
        var sae = new SaeConfig
        {
            Architecture = jump ? SaeArchitecture.JumpRelu : SaeArchitecture.Standard, DIn = dModel, DSae = dSae, ApplyBDecToInput = false, HookName = input,
        };
        var wEnc = file.ReadFloat("W_enc");
        var wDec = file.ReadFloat("W_dec");
        var tensors = new List<FloatTensor>
        {
            new("W_enc", [dModel, dSae], encoderStored ? CommunitySaeFiles.Transpose(wEnc.Data, dSae, dModel) : wEnc.Data),
            new("W_dec", [dSae, dModel], decoderStored ? wDec.Data : CommunitySaeFiles.Transpose(wDec.Data, dModel, dSae)),
            file.ReadFloat("b_enc"), file.ReadFloat("b_dec"),
        };
        if (jump) tensors.Add(file.ReadFloat(ThresholdTensor) with { Name = "threshold" });
        var dictionary = SparseAutoencoder.FromTensors(sae, tensors, path);
        return new Transcoder(dictionary, input, output, file.Contains("W_skip") ? file.ReadFloat("W_skip").Data : null);
    }

    /// <summary>
    /// The declared tensors, checked before any is read: b_enc [d_sae] and b_dec [d_model] set the shape, W_enc and W_dec
    /// must be [d_sae, d_model] or [d_model, d_sae] (true: the first, circuit-tracer's own layout), the optional threshold
    /// [d_sae] and W_skip [d_model, d_model], all floating point, nothing else, the matrices small enough for one array.
    /// </summary>
    private static (int DModel, int DSae, bool EncoderStored, bool DecoderStored) CheckCircuitTracer(SafetensorsFile file)
    {
        var byName = file.Entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        int Length(string name) => byName.TryGetValue(name, out var e) && e.Shape.Length == 1 ? e.Shape[0]
            : throw new RelpSaeException($"{file.Path}: tensor '{name}' is {(e is null ? "missing" : $"of shape [{string.Join(", ", e.Shape)}], not a vector")} (a circuit-tracer transcoder has W_enc, W_dec, b_enc, b_dec)");
        int dSae = Length("b_enc"), dModel = Length("b_dec");
        if ((long)dSae * dModel > Array.MaxLength)
            throw new RelpSaeException($"{file.Path}: d_sae {dSae} × d_model {dModel} is more elements than one array can hold");
        bool Stored(string name)
        {
            var shape = byName.TryGetValue(name, out var e) ? e.Shape : null;
            if (shape is not null && shape.SequenceEqual([dSae, dModel])) return true;
            if (shape is not null && shape.SequenceEqual([dModel, dSae])) return false;
            throw new RelpSaeException($"{file.Path}: tensor '{name}' {(shape is null ? "is missing" : $"has shape [{string.Join(", ", shape)}]")}; b_enc [{dSae}] and b_dec [{dModel}] imply [{dSae}, {dModel}]"
                + (dSae == dModel ? "" : $" or [{dModel}, {dSae}]"));
        }
        var layout = (dModel, dSae, Stored("W_enc"), Stored("W_dec"));
        var optional = new Dictionary<string, int[]> { [ThresholdTensor] = [dSae], ["W_skip"] = [dModel, dModel] };
        foreach (var e in file.Entries)
        {
            if (optional.TryGetValue(e.Name, out var shape) && !e.Shape.SequenceEqual(shape))
                throw new RelpSaeException($"{file.Path}: tensor '{e.Name}' has shape [{string.Join(", ", e.Shape)}]; b_enc [{dSae}] and b_dec [{dModel}] imply [{string.Join(", ", shape)}]");
            if (!optional.ContainsKey(e.Name) && e.Name is not ("W_enc" or "W_dec" or "b_enc" or "b_dec"))
                throw new RelpSaeException($"{file.Path}: unexpected tensor '{e.Name}' for a circuit-tracer transcoder (W_enc, W_dec, b_enc, b_dec, {ThresholdTensor}, W_skip)");
            if (!e.DType.IsFloat())
                throw new RelpSaeException($"{file.Path}: tensor '{e.Name}' is {e.DType}; transcoder weights must be floating point");
        }
        return layout;
    }

    /// <summary>
    /// The top-level scalar keys of a small YAML file (key: value, the value bare or quoted, a # comment after it): all
    /// circuit-tracer's config.yaml holds that matters here. Indented and list lines belong to other keys and are skipped.
    /// </summary>
    internal static Dictionary<string, string> TopLevelYaml(string text)
    {
        var keys = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (var line in text.Split('\n'))
        {
            var m = Regex.Match(line.TrimEnd('\r'), """^([A-Za-z_][\w.-]*)\s*:\s*(?:"([^"]*)"|'([^']*)'|([^#'"]*?))\s*(?:#.*)?$""");
            if (m.Success) keys[m.Groups[1].Value] = m.Groups[2].Success ? m.Groups[2].Value : m.Groups[3].Success ? m.Groups[3].Value : m.Groups[4].Value;
        }
        return keys;
    }
}
