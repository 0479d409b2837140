using System.Text.RegularExpressions;

namespace RelpSae.Hub;

/// <summary>
/// The two kinds of name the Hub's answers put into cache paths, a commit and an ETag: only lowercase hex
/// of a hash's length is taken, so no header or refs file can name a path that climbs out of the cache.
/// </summary>
public static partial class HubHashes
{
    [GeneratedRegex("^[0-9a-f]{40}$")]
    private static partial Regex Commit();

    /// <summary>A git sha1 (a small file's blob hash) or a sha256 (an LFS file's content hash).</summary>
    [GeneratedRegex("^([0-9a-f]{40}|[0-9a-f]{64})$")]
    private static partial Regex Etag();

    public static bool IsCommit(string text) => Commit().IsMatch(text);

    public static bool IsEtag(string text) => Etag().IsMatch(text);
}
