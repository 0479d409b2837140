namespace RelpSae.Hub;

/// <summary>
/// A revision is a branch, a tag or a commit, never a path: git's ref-name rules (check-ref-format) refuse
/// what could climb out of refs/ or name a device (a leading '/', "..", empty components), and the
/// characters git reserves. Slashes inside stay legal, for the Hub's refs/pr/1 and refs/convert/parquet.
/// </summary>
public static class RevisionName
{
    /// <summary>A file name's limit on common file systems, since refs/&lt;revision&gt; becomes one.</summary>
    private const int MaxLength = 255;

    public static bool IsValid(string revision) =>
        revision.Length is > 0 and <= MaxLength && revision != "@"
        && !revision.Contains("..") && !revision.Contains("@{") && !revision.EndsWith('.')
        && revision.Split('/').All(part => part.Length > 0 && part[0] != '.' && !part.EndsWith(".lock", StringComparison.Ordinal))
        && !revision.Any(c => char.IsControl(c) || c is ' ' or '~' or '^' or ':' or '?' or '*' or '[' or '\\');
}
