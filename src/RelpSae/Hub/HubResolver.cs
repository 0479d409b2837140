namespace RelpSae.Hub;

/// <summary>
/// Turns a Hub model or SAE name into a folder of the Hugging Face cache, downloading what is missing.
/// A revision whose cached snapshot already holds every needed file is used without touching the network
/// (so a cache filled by Python works offline as it is); <c>refresh</c> asks the Hub for the revision's
/// current commit first, as <c>relp-sae download</c> does. HF_HUB_OFFLINE forbids the network altogether.
/// </summary>
public sealed class HubResolver(HubSettings settings, DownloadRunner? progress = null)
{
    public HubCache Cache { get; } = new(settings.CacheDir);

    /// <summary>The snapshot folder holding the model's config, weights and tokenizer files.</summary>
    public string ResolveModel(ModelReference model, bool refresh = false) => Resolve(model, RepoFiles.Model, refresh);

    /// <summary>The folder inside a snapshot holding the SAE's cfg.json and weights (or its one file, for a Gemma Scope or dictionary_learning SAE).</summary>
    public string ResolveSae(SaeReference sae, bool refresh = false) =>
        Path.Combine(Resolve(sae.Repo, sae.CrossLayerLayers is { } layers ? RepoFiles.CrossLayerTranscoder(layers) : RepoFiles.Sae(sae.Folder), refresh), sae.Folder);

    private string Resolve(ModelReference reference, RepoFiles files, bool refresh)
    {
        var cached = reference.CacheNames.Select(name => Cache.CachedCommit(name, reference.Revision) is { } commit ? Cache.SnapshotFolder(name, commit) : null)
            .FirstOrDefault(snapshot => snapshot is not null && Directory.Exists(snapshot) && files.MissingFrom(snapshot).Count == 0);
        if (cached is not null && (!refresh || settings.Offline)) return cached;
        if (settings.Offline)
            throw new RelpSaeException($"{reference}: not in the Hugging Face cache at {Cache.Root} (or incomplete), " +
                "and HF_HUB_OFFLINE forbids downloading it");
        try
        {
            return Download(reference, files);
        }
        catch (HubUnreachableException e) when (cached is null)
        {
            throw e.NotCached(reference.ToString(), Cache.Root);
        }
    }

    /// <summary>
    /// Fetches every file at one commit: the first request resolves the revision, the rest ask for that commit,
    /// so a branch that moves mid-download cannot mix two snapshots.
    /// </summary>
    private string Download(ModelReference reference, RepoFiles files)
    {
        var repoId = reference.CanonicalRepoId;
        using var client = new HubClient(settings);
        var downloader = new HubDownloader(client, Cache, progress);
        string revision = reference.Revision, commit = reference.Revision;

        string? Fetch(string path, bool required)
        {
            var info = client.TryGetInfo(repoId, commit, path);
            if (info is null)
                return required ? throw new RelpSaeException($"{repoId}@{reference.Revision}: {path}: no such file on the Hub (HTTP 404)") : null;
            var snapshotPath = downloader.Fetch(repoId, revision, info);
            commit = info.Commit;
            return snapshotPath;
        }

        foreach (var path in files.Required) Fetch(path, required: true);
        foreach (var group in files.OneOf)
        {
            var (path, local) = group.Select(p => (p, Fetch(p, required: false))).FirstOrDefault(x => x.Item2 is not null);
            if (local is null) throw new RelpSaeException($"{repoId}@{reference.Revision}: has none of {string.Join(", ", group)}");
            if (RepoFiles.IsIndex(path))
                foreach (var shard in RepoFiles.Shards(local, path)) Fetch(shard, required: true);
        }
        foreach (var path in files.Optional) Fetch(path, required: false);
        return Cache.SnapshotFolder(repoId, commit);
    }
}
