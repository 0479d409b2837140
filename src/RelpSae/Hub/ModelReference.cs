namespace RelpSae.Hub;

/// <summary>
/// A Hub repository at a revision, as written on the command line: <c>org/name</c>, <c>org/name@revision</c>,
/// or a bare legacy name (<c>gpt2</c>) that the Hub redirects to its canonical repository.
/// </summary>
public sealed record ModelReference(string RepoId, string Revision = ModelReference.MainRevision)
{
    public const string MainRevision = "main";

    /// <summary>
    /// Bare names the Hub moved under an organisation (it redirects the old names); Python caches made
    /// before the move live under the bare name, so both are looked up (TransformerLens' gpt2-small too).
    /// </summary>
    private static readonly Dictionary<string, string> Canonical = new(StringComparer.Ordinal)
    {
        ["gpt2"] = "openai-community/gpt2",
        ["gpt2-small"] = "openai-community/gpt2",
        ["gpt2-medium"] = "openai-community/gpt2-medium",
        ["gpt2-large"] = "openai-community/gpt2-large",
        ["gpt2-xl"] = "openai-community/gpt2-xl",
        ["distilgpt2"] = "distilbert/distilgpt2",
    };

    /// <summary>The repository downloads go to: the canonical one for a moved bare name.</summary>
    public string CanonicalRepoId => Canonical.GetValueOrDefault(RepoId, RepoId);

    /// <summary>Every repository name whose cache folder may hold this model, the canonical one first.</summary>
    public IEnumerable<string> CacheNames => CanonicalRepoId == RepoId ? [RepoId] : [CanonicalRepoId, RepoId];

    public override string ToString() => Revision == MainRevision ? RepoId : $"{RepoId}@{Revision}";

    /// <summary>
    /// Parses a model name; null when the text cannot be a Hub name (so it can only be a folder). A Hub name
    /// whose revision is no branch, tag or commit name is refused, since the revision becomes a path in the cache.
    /// </summary>
    public static ModelReference? TryParse(string text)
    {
        var (name, revision) = text.Split('@', 2) is [var n, var r] ? (n, r) : (text, MainRevision);
        if (revision.Length == 0 || !IsRepoId(name)) return null;
        if (!name.Contains('/') && !Canonical.ContainsKey(name)) return null;
        if (!RevisionName.IsValid(revision))
            throw new RelpSaeException($"{text}: revision \"{revision}\" is not a branch, tag or commit name");
        return new ModelReference(name, revision);
    }

    /// <summary>Hub repository ids: [org/]name of letters, digits, '-', '_', '.', neither part starting with '.'.</summary>
    public static bool IsRepoId(string text)
    {
        var parts = text.Split('/');
        return parts.Length is 1 or 2 && parts.All(p => p.Length is > 0 and <= 96 && p[0] != '.' && !p.Contains("..")
            && p.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'));
    }
}
