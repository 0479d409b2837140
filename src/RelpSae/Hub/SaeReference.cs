namespace RelpSae.Hub;

/// <summary>
/// An SAE named on the command line: a SAELens release and SAE id (<c>gpt2-small-res-jb/blocks.6.hook_resid_pre</c>),
/// or a folder inside any Hub repository (<c>org/repo[@revision]/path/inside/repo</c>), or a Gemma Scope params.npz or
/// dictionary_learning ae.pt file there (<c>google/gemma-scope-2b-pt-res/layer_20/width_16k/average_l0_71/params.npz</c>),
/// or a cross-layer transcoder's repository (<see cref="TranscoderReleases.CrossLayer"/>), whose
/// <paramref name="CrossLayerLayers"/> W_enc_i / W_dec_i pairs lie at its top.
/// </summary>
public sealed record SaeReference(ModelReference Repo, string Folder, SaeRelease? Release, int? CrossLayerLayers = null)
{
    /// <summary>The processing the SAE expects: its release's (circuit-tracer's for a cross-layer transcoder), or none for a plain repository folder.</summary>
    public SaeProcessing Processing => Release?.Processing ?? (CrossLayerLayers is null ? SaeProcessing.None : TranscoderReleases.CircuitTracer);

    public override string ToString() => Release is { } r ? $"{r.Name}/{Folder}" : Folder.Length == 0 ? Repo.ToString() : $"{Repo}/{Folder}";

    /// <summary>A release's ids, the first ten and a count of the rest (Gemma Scope's hold hundreds).</summary>
    private static string Some(IEnumerable<string> ids)
    {
        var all = ids.ToList();
        return all.Count <= 12 ? string.Join(", ", all) : $"{string.Join(", ", all.Take(10))}, … {all.Count} in all";
    }

    /// <summary>Parses an SAE name; null when the text cannot be one (so it can only be a folder).</summary>
    public static SaeReference? TryParse(string text)
    {
        if (text.Count(c => c == '/') == 1 && ModelReference.TryParse(text) is { } clt && TranscoderReleases.CrossLayer.TryGetValue(clt.RepoId, out int layers))
            return new SaeReference(clt, "", null, layers);
        var parts = text.Split('/');
        if (parts.Length >= 2 && SaeReleases.Find(parts[0]) is { } release)
        {
            var id = string.Join('/', parts[1..]);
            var folder = release.Paths.GetValueOrDefault(id) ?? throw new RelpSaeException(
                $"release {release.Name} has no SAE \"{id}\" (it has {Some(release.Paths.Keys)})");
            return new SaeReference(new ModelReference(release.RepoId), folder, release);
        }
        if (parts.Length < 3 || parts[2..].Any(p => p.Length == 0 || p is "." or "..")) return null;
        return ModelReference.TryParse($"{parts[0]}/{parts[1]}") is { } repo ? new SaeReference(repo, string.Join('/', parts[2..]), null) : null;
    }
}
