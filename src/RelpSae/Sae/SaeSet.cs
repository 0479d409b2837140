using RelpSae.Model;

namespace RelpSae.Sae;

/// <summary>An SAE, the folder (or Gemma Scope / dictionary_learning file) it came from and the residual hook it reads.</summary>
public sealed record HookedSae(string Folder, SparseAutoencoder Sae, HookPoint Hook);

/// <summary>
/// Several SAEs spliced into one model at once (sparse feature circuits): given as a comma list of SAE
/// folders or community SAE files, or as one folder holding one SAE per subfolder. Ordered along the residual stream; at most
/// one SAE per hook, each as wide as the model.
/// </summary>
public static class SaeSet
{
    public static IReadOnlyList<HookedSae> Load(string spec, ModelFacts config)
    {
        var folders = spec.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (folders.Length == 0) throw new RelpSaeException("no SAE folder given");
        foreach (var f in folders)
            if (!Directory.Exists(f) && !SaeFiles.IsCommunityFile(f)) throw new RelpSaeException($"SAE folder not found: {f} (nor a Gemma Scope .npz or params.safetensors or dictionary_learning .pt file)");
        if (folders.Length == 1 && Directory.Exists(folders[0]) && !SaeFiles.IsSaeFolder(folders[0]))
        {
            folders = Directory.GetDirectories(folders[0]).Where(SaeFiles.IsSaeFolder).Order(StringComparer.Ordinal).ToArray();
            if (folders.Length == 0) throw new RelpSaeException($"{spec} holds neither {SaeFiles.ConfigFile} nor subfolders with one: it is not an SAE folder or a folder of SAEs");
        }
        return Check(folders.Select(f => Hooked(f, SaeFiles.Load(f), config)).ToList(), config);
    }

    /// <summary>The SAE's hook from its cfg.json, checked to be a residual hook of this model.</summary>
    public static HookedSae Hooked(string folder, SparseAutoencoder sae, ModelFacts config)
    {
        var name = sae.Config.HookName ?? throw new RelpSaeException($"{folder}: the SAE's cfg.json names no hook (hook_name)");
        var hook = config.ParseHook(name);
        if (!config.IsResidual(hook)) throw new RelpSaeException($"{folder}: SAEs are spliced at residual hooks (hook_resid_pre/mid/post); {hook} is not one");
        return new HookedSae(folder, sae, hook);
    }

    /// <summary>Checks widths and hooks; returns the SAEs in the order the forward pass reaches their hooks.</summary>
    public static IReadOnlyList<HookedSae> Check(IReadOnlyList<HookedSae> saes, ModelFacts config)
    {
        foreach (var s in saes)
            if (s.Sae.DIn != config.DModel)
                throw new RelpSaeException($"{s.Folder}: {config.WidthMismatch(s.Sae.DIn)}");
        foreach (var group in saes.GroupBy(s => s.Hook).Where(g => g.Count() > 1))
            throw new RelpSaeException($"two SAEs at {group.Key}: {string.Join(" and ", group.Select(s => s.Folder))}; splice at most one SAE per hook");
        var order = config.HookPoints().Select((h, i) => (h, i)).ToDictionary(p => p.h, p => p.i);
        return saes.OrderBy(s => order[s.Hook]).ToList();
    }
}
