using RelpSae.Formats;

namespace RelpSae.Sae;

/// <summary>
/// An SAE on disk in SAELens' layout: a folder with cfg.json, sae_weights.safetensors (W_enc [d_in, d_sae],
/// b_enc, W_dec [d_sae, d_in], b_dec, and threshold for JumpReLU) and optionally sparsity.safetensors
/// (<c>sparsity</c> [d_sae] = log10 of each feature's firing density).
/// </summary>
public static class SaeFiles
{
    /// <summary>
    /// Where the SAE loaded from <paramref name="saePath"/> reads in the model: its hook_name (or the hook its
    /// community file's folder implies), refused in one line when absent, not the model's, or of another width.
    /// </summary>
    public static Model.HookPoint Hook(SparseAutoencoder sae, Model.ModelFacts facts, string saePath)
    {
        var name = sae.Config.HookName ?? throw new RelpSaeException(File.Exists(Path.Combine(saePath, ConfigFile))
            ? $"{saePath}: the SAE's cfg.json names no hook (hook_name)"
            : $"{saePath}: the file does not say which hook the SAE reads, nor does its folder (layer_N/ for Gemma Scope, resid_post/layer_N_…/ for Gemma Scope 2, resid_out_layerN/ for dictionary_learning)");
        var hook = facts.ParseHook(name);
        if (sae.DIn != facts.DModel) throw new RelpSaeException($"{saePath}: {facts.WidthMismatch(sae.DIn)}");
        return hook;
    }

    public const string ConfigFile = "cfg.json";
    public const string WeightsFile = "sae_weights.safetensors";
    public const string SparsityFile = "sparsity.safetensors";
    public const string SparsityTensor = "sparsity";

    /// <summary>
    /// Loads the SAE in <paramref name="path"/> (the folder, or any file in it): a SAELens folder, a Llama Scope
    /// folder (<see cref="LlamaScopeFiles"/>) or a folder holding Gemma Scope 2's params.safetensors; a Gemma Scope
    /// params.npz, Gemma Scope 2 params.safetensors or dictionary_learning ae.pt named directly loads through
    /// <see cref="CommunitySaeFiles"/>.
    /// </summary>
    public static SparseAutoencoder Load(string path)
    {
        // A transcoder's file looks like an SAE's (Gemma Scope's params.npz) but reads one hook and writes another.
        if (TranscoderFiles.IsTranscoder(path))
        {
            var transcoder = TranscoderFiles.Load(path);
            throw new RelpSaeException($"{path}: a transcoder (it reads {transcoder.InputHook} and writes {transcoder.OutputHook}), not an SAE of one hook");
        }
        if (CrossLayerTranscoderFiles.IsCrossLayerTranscoder(path))
            throw new RelpSaeException($"{path}: a cross-layer transcoder (circuit-tracer's W_enc_i / W_dec_i files), not an SAE of one hook");
        if (IsCommunityFile(path)) return CommunitySaeFiles.Load(path);
        string folder = Folder(path);
        string cfgPath = Path.Combine(folder, ConfigFile), weightsPath = Path.Combine(folder, WeightsFile);
        if (!File.Exists(cfgPath))
        {
            if (File.Exists(Path.Combine(folder, LlamaScopeFiles.HyperparamsFile))) return LlamaScopeFiles.Load(folder);
            if (File.Exists(Path.Combine(folder, CommunitySaeFiles.GemmaScope2File))) return CommunitySaeFiles.LoadGemmaScope2(Path.Combine(folder, CommunitySaeFiles.GemmaScope2File));
            throw new RelpSaeException($"{cfgPath}: no such file (an SAE folder needs {ConfigFile} and {WeightsFile}, or Llama Scope's {LlamaScopeFiles.HyperparamsFile})");
        }
        var config = SaeLensConfig.Parse(SideFile.ReadText(cfgPath), cfgPath);
        if (!File.Exists(weightsPath)) throw new RelpSaeException($"{weightsPath}: no such file");
        using var weights = SafetensorsFile.Open(weightsPath);
        CheckBeforeReading(config, weights);
        return SparseAutoencoder.FromTensors(config, weights.ReadAll().Values, weightsPath);
    }

    /// <summary>Whether <paramref name="path"/> is a Gemma Scope .npz, a Gemma Scope 2 params.safetensors or a dictionary_learning .pt file (an SAE in one file, not a folder).</summary>
    public static bool IsCommunityFile(string path) => File.Exists(path) && IsCommunityFileName(path);

    /// <summary>Whether the name is a Gemma Scope .npz, a Gemma Scope 2 params.safetensors or a dictionary_learning .pt file's, wherever it lies (on disk or in a Hub repository).</summary>
    public static bool IsCommunityFileName(string path) =>
        path.EndsWith(".npz", StringComparison.OrdinalIgnoreCase) || path.EndsWith(".pt", StringComparison.OrdinalIgnoreCase)
        || Path.GetFileName(path) == CommunitySaeFiles.GemmaScope2File;

    /// <summary>Whether <paramref name="folder"/> holds one SAE (SAELens' cfg.json, Llama Scope's hyperparams.json or Gemma Scope 2's params.safetensors).</summary>
    public static bool IsSaeFolder(string folder) =>
        new[] { ConfigFile, LlamaScopeFiles.HyperparamsFile, CommunitySaeFiles.GemmaScope2File }.Any(f => File.Exists(Path.Combine(folder, f)));

    /// <summary>
    /// Bounds what reading the weights may cost by the config, before a byte is converted: the SAE's
    /// matrices must fit one array, and no tensor may be larger than W_enc or hold integers.
    /// </summary>
    internal static void CheckBeforeReading(SaeConfig config, SafetensorsFile weights)
    {
        long matrix = (long)config.DIn * config.DSae;
        if (matrix > Array.MaxLength)
            throw new RelpSaeException($"{weights.Path}: d_in {config.DIn} × d_sae {config.DSae} is more elements than one array can hold");
        foreach (var e in weights.Entries)
        {
            if (!e.DType.IsFloat())
                throw new RelpSaeException($"{weights.Path}: tensor '{e.Name}' is {e.DType}; SAE weights must be floating point");
            if (e.Count > matrix)
                throw new RelpSaeException($"{weights.Path}: tensor '{e.Name}' has shape [{string.Join(", ", e.Shape)}], larger than any weight of an SAE with d_in {config.DIn} and d_sae {config.DSae}");
        }
    }

    /// <summary>The log10 feature densities from sparsity.safetensors, or null when the folder has none.</summary>
    public static float[]? LoadLogSparsity(string path, int dSae)
    {
        string file = Path.Combine(Folder(path), SparsityFile);
        if (!File.Exists(file)) return null;
        using var sparsity = SafetensorsFile.Open(file);
        var tensor = sparsity.ReadFloat(SparsityTensor);
        if (tensor.Data.Length != dSae)
            throw new RelpSaeException($"{file}: tensor '{SparsityTensor}' has {tensor.Data.Length} values but the SAE has d_sae {dSae}");
        return tensor.Data;
    }

    /// <summary>Writes the SAE (and, if given, its log10 feature densities) into <paramref name="folder"/>.</summary>
    public static void Save(string folder, SparseAutoencoder sae, IReadOnlyList<float>? logSparsity = null) =>
        Save(folder, sae, logSparsity, SaeLensConfig.Write(sae.Config));

    /// <summary>As <see cref="Save(string, SparseAutoencoder, IReadOnlyList{float}?)"/> with the cfg.json text given (a transcoder's).</summary>
    internal static void Save(string folder, SparseAutoencoder sae, IReadOnlyList<float>? logSparsity, string configJson)
    {
        if (logSparsity is not null && logSparsity.Count != sae.DSae)
            throw new ArgumentException($"{logSparsity.Count} sparsity values for d_sae {sae.DSae}", nameof(logSparsity));
        Directory.CreateDirectory(folder);
        SafetensorsWriter.Write(Path.Combine(folder, WeightsFile), sae.ToTensors());
        if (logSparsity is not null)
            SafetensorsWriter.Write(Path.Combine(folder, SparsityFile), [new FloatTensor(SparsityTensor, [sae.DSae], [.. logSparsity])]);
        AtomicFile.WriteText(Path.Combine(folder, ConfigFile), configJson);
    }

    internal static string Folder(string path) =>
        Directory.Exists(path) ? path
        : File.Exists(path) ? Path.GetDirectoryName(Path.GetFullPath(path))!
        : throw new RelpSaeException($"{path}: no such SAE folder");
}
