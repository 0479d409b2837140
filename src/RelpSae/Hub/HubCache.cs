using System.Text.RegularExpressions;

namespace RelpSae.Hub;

/// <summary>
/// The Hugging Face cache layout, shared with Python's huggingface_hub so either sees the other's files:
/// <c>models--org--name/blobs/&lt;etag&gt;</c> holds each file once, <c>snapshots/&lt;commit&gt;/&lt;path&gt;</c>
/// is a relative symlink into blobs, and <c>refs/&lt;revision&gt;</c> holds the commit a branch or tag names.
/// </summary>
public sealed partial class HubCache(string root)
{
    public string Root { get; } = root;

    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex CommitHash();

    public static bool IsCommit(string revision) => CommitHash().IsMatch(revision);

    public string RepoFolder(string repoId) => Path.Combine(Root, "models--" + repoId.Replace("/", "--"));

    public string BlobPath(string repoId, string etag) => Path.Combine(RepoFolder(repoId), "blobs", etag);

    public string SnapshotFolder(string repoId, string commit) => Path.Combine(RepoFolder(repoId), "snapshots", commit);

    /// <summary>The commit a revision names in the cache: itself if it is a commit hash, else what refs/ records.</summary>
    public string? CachedCommit(string repoId, string revision)
    {
        if (IsCommit(revision)) return Directory.Exists(SnapshotFolder(repoId, revision)) ? revision : null;
        var reference = Path.Combine(RepoFolder(repoId), "refs", revision);
        return File.Exists(reference) ? File.ReadAllText(reference).Trim() : null;
    }

    /// <summary>Records that a branch or tag points at a commit.</summary>
    public void WriteRef(string repoId, string revision, string commit)
    {
        if (revision == commit) return;
        var reference = Path.Combine(RepoFolder(repoId), "refs", revision);
        Directory.CreateDirectory(Path.GetDirectoryName(reference)!);
        File.WriteAllText(reference, commit);
    }

    /// <summary>Points snapshots/&lt;commit&gt;/&lt;path&gt; at the blob, relatively (as huggingface_hub does), so the cache can move.</summary>
    public string LinkIntoSnapshot(string repoId, string commit, string path, string etag)
    {
        var link = Path.Combine(SnapshotFolder(repoId, commit), path);
        Directory.CreateDirectory(Path.GetDirectoryName(link)!);
        if (File.Exists(link) || Path.Exists(link)) File.Delete(link);
        File.CreateSymbolicLink(link, Path.GetRelativePath(Path.GetDirectoryName(link)!, BlobPath(repoId, etag)));
        return link;
    }
}
