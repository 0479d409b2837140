using RelpSae.Formats;

namespace RelpSae.Hub;

/// <summary>
/// The Hugging Face cache layout, shared with Python's huggingface_hub so either sees the other's files:
/// <c>models--org--name/blobs/&lt;etag&gt;</c> holds each file once, <c>snapshots/&lt;commit&gt;/&lt;path&gt;</c>
/// is a relative symlink into blobs, and <c>refs/&lt;revision&gt;</c> holds the commit a branch or tag names.
/// Every path it hands out has been proven to lie inside the cache (<see cref="Inside"/>).
/// </summary>
public sealed class HubCache(string root)
{
    /// <summary>A refs file holds one commit hash and a newline; anything much longer is not one.</summary>
    private const long MaxRefBytes = 1024;

    public string Root { get; } = root;

    public string RepoFolder(string repoId) => Inside(Path.Combine(Root, "models--" + repoId.Replace("/", "--")));

    public string BlobPath(string repoId, string etag) => Inside(Path.Combine(RepoFolder(repoId), "blobs", etag));

    /// <summary>Where a blob's bytes gather while it downloads, beside the blob.</summary>
    public string PartialPath(string repoId, string etag) => BlobPath(repoId, etag) + ".incomplete";

    public string SnapshotFolder(string repoId, string commit) => Inside(Path.Combine(RepoFolder(repoId), "snapshots", commit));

    private string RefPath(string repoId, string revision) => Inside(Path.Combine(RepoFolder(repoId), "refs", revision));

    /// <summary>
    /// The full path, once it is proven to stay under the cache root: a commit, ETag or revision that reads as
    /// an absolute path or climbs with "..", whatever let it through, is refused here before anything is
    /// written, deleted or linked. Links inside the cache are not followed, since users move a repository's
    /// folder to another disk and link it back.
    /// </summary>
    public string Inside(string path)
    {
        var rootFolder = Path.TrimEndingDirectorySeparator(Path.GetFullPath(Root));
        var full = Path.GetFullPath(path);
        if (!full.StartsWith(rootFolder + Path.DirectorySeparatorChar, StringComparison.Ordinal))
            throw new RelpSaeException($"{path}: outside the Hugging Face cache at {Root}; refused");
        return full;
    }

    /// <summary>The commit a revision names in the cache: itself if it is a commit hash, else what refs/ records.</summary>
    public string? CachedCommit(string repoId, string revision)
    {
        if (HubHashes.IsCommit(revision)) return Directory.Exists(SnapshotFolder(repoId, revision)) ? revision : null;
        var reference = RefPath(repoId, revision);
        if (!File.Exists(reference)) return null;
        var commit = SideFile.ReadText(reference, MaxRefBytes).Trim();
        return HubHashes.IsCommit(commit) ? commit
            : throw new RelpSaeException($"{reference}: holds \"{string.Concat(commit.Select(c => char.IsControl(c) ? '?' : c))}\", " +
                "not a commit hash (40 lowercase hex digits)");
    }

    /// <summary>Records that a branch or tag points at a commit.</summary>
    public void WriteRef(string repoId, string revision, string commit)
    {
        if (revision == commit) return;
        var reference = RefPath(repoId, revision);
        Directory.CreateDirectory(Path.GetDirectoryName(reference)!);
        File.WriteAllText(reference, commit);
    }

    /// <summary>Points snapshots/&lt;commit&gt;/&lt;path&gt; at the blob, relatively (as huggingface_hub does), so the cache can move.</summary>
    public string LinkIntoSnapshot(string repoId, string commit, string path, string etag)
    {
        var link = Inside(Path.Combine(SnapshotFolder(repoId, commit), path));
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        if (File.Exists(link) || Path.Exists(link)) File.Delete(link);
        File.CreateSymbolicLink(link, Path.GetRelativePath(Path.GetDirectoryName(link)!, BlobPath(repoId, etag)));
        return link;
    }
}
