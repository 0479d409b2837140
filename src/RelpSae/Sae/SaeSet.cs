using RelpSae.Model;

namespace RelpSae.Sae;

/// <summary>
/// A dictionary spliced at one site of the model, from the folder or file it came from: an SAE reads and rewrites
/// <see cref="Hook"/>; a transcoder's features are encoded from <see cref="Input"/>, its MLP's input, and it stands in for
/// the MLP's output at <see cref="Hook"/> (its skip connection, if any, counted with the error node).
/// </summary>
public sealed record HookedSae(string Folder, SparseAutoencoder Sae, HookPoint Hook, HookPoint Input)
{
    /// <summary>An SAE, reading the hook it rewrites.</summary>
    public HookedSae(string folder, SparseAutoencoder sae, HookPoint hook) : this(folder, sae, hook, hook) { }

    public bool IsTranscoder => Input != Hook;

    /// <summary>The site as reports name it: its hook, and a transcoder's input.</summary>
    public string Label => IsTranscoder ? $"{Hook} (transcoder from {Input})" : Hook.Name;

    /// <summary>What the dictionary replaces: the hook it writes, an MLP's output whether written at hook_mlp_out or mlp.hook_out.</summary>
    public HookPoint Site => Hook.Kind == HookKind.MlpHookOut ? new HookPoint(HookKind.MlpOut, Hook.Layer) : Hook;
}

/// <summary>
/// Several dictionaries spliced into one model at once (sparse feature circuits): SAEs at residual hooks, attention outputs
/// (hook_attn_out) and MLP outputs (hook_mlp_out), and transcoders in place of MLPs, in any mix. Given as a comma list whose
/// entries are each a dictionary (an SAE folder or community SAE file, a transcoder folder or file) or a folder of them (one
/// per subfolder, or circuit-tracer's set of layer files). Ordered along the forward pass; at most one dictionary per site,
/// each as wide as its hooks.
/// </summary>
public static class SaeSet
{
    public static IReadOnlyList<HookedSae> Load(string spec, ModelFacts config)
    {
        var entries = spec.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (entries.Length == 0) throw new RelpSaeException("no SAE folder given");
        return Check(entries.SelectMany(Members).Select(p => Hooked(p, config)).ToList(), config);
    }

    /// <summary>The dictionaries an entry names: itself, or those its folder holds.</summary>
    internal static string[] Members(string path)
    {
        if (TranscoderFiles.IsTranscoder(path) || SaeFiles.IsCommunityFile(path) || Directory.Exists(path) && SaeFiles.IsSaeFolder(path)) return [path];
        if (!Directory.Exists(path)) throw new RelpSaeException($"SAE folder not found: {path} (nor a Gemma Scope .npz or params.safetensors or dictionary_learning .pt file)");
        if (File.Exists(Path.Combine(path, TranscoderFiles.CircuitTracerConfig))) return TranscoderSet.Members(path);
        var found = Directory.GetDirectories(path).Where(SaeFiles.IsSaeFolder).Order(StringComparer.Ordinal).ToArray();
        if (found.Length == 0) throw new RelpSaeException($"{path} holds neither {SaeFiles.ConfigFile} nor subfolders with one: it is not an SAE folder or a folder of SAEs");
        return found;
    }

    /// <summary>The SAE or transcoder at <paramref name="path"/>, with where it reads and writes in the model.</summary>
    public static HookedSae Hooked(string path, ModelFacts config)
    {
        if (!TranscoderFiles.IsTranscoder(path)) return Hooked(path, SaeFiles.Load(path), config);
        var transcoder = TranscoderFiles.Load(path);
        var (input, output) = transcoder.Hooks(config, path);
        return new HookedSae(path, transcoder.Dictionary, output, input);
    }

    /// <summary>The SAE's hook from its cfg.json, checked to be a site of this model: a residual hook, hook_attn_out or hook_mlp_out.</summary>
    public static HookedSae Hooked(string folder, SparseAutoencoder sae, ModelFacts config)
    {
        var name = sae.Config.HookName ?? throw new RelpSaeException($"{folder}: the SAE's cfg.json names no hook (hook_name)");
        HookPoint hook;
        try { hook = config.ParseHook(name); }
        catch (RelpSaeException e) { throw new RelpSaeException($"{folder}: {e.Message}", e); }
        if (!config.IsResidual(hook) && hook.Kind is not (HookKind.AttnOut or HookKind.MlpOut))
            throw new RelpSaeException($"{folder}: SAEs are spliced at residual hooks (hook_resid_pre/mid/post), hook_attn_out or hook_mlp_out; {hook} is not one");
        return new HookedSae(folder, sae, hook);
    }

    /// <summary>Checks widths and sites; returns the dictionaries in the order the forward pass reaches the hooks they write.</summary>
    public static IReadOnlyList<HookedSae> Check(IReadOnlyList<HookedSae> saes, ModelFacts config)
    {
        foreach (var s in saes)
            foreach (var hook in new[] { s.Input, s.Hook }.Distinct())
                if (config.Width(hook, 1) != s.Sae.DIn)
                    throw new RelpSaeException($"{s.Folder}: the {(s.IsTranscoder ? "transcoder" : "SAE")} is {s.Sae.DIn} wide but {hook} holds {config.Width(hook, 1)} values a position ({config.WidthKey})");
        foreach (var group in saes.GroupBy(s => s.Site).Where(g => g.Count() > 1))
            throw new RelpSaeException($"two dictionaries replace {group.Key}: {string.Join(" and ", group.Select(s => s.Folder))}; splice at most one per site");
        var order = config.HookPoints().Select((h, i) => (h, i)).ToDictionary(p => p.h, p => p.i);
        return saes.OrderBy(s => order[s.Hook]).ToList();
    }
}
