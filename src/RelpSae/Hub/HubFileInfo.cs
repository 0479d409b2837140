namespace RelpSae.Hub;

/// <summary>What the Hub says about one file at a revision: the commit it resolved to, the file's ETag
/// (sha256 for LFS files, git blob sha1 for the others), its size, and where its bytes are served from.</summary>
public sealed record HubFileInfo(string Path, string Commit, string Etag, long Size, Uri DownloadUrl);
