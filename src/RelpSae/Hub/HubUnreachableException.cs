namespace RelpSae.Hub;

/// <summary>
/// No answer from the Hub's endpoint. What to do depends on the cache: with the files there, use them
/// offline; without, fetch them where there is a network (see <see cref="NotCached"/>).
/// </summary>
public sealed class HubUnreachableException(string endpoint, string reason, Exception inner)
    : RelpSaeException($"cannot reach {endpoint} ({reason}); set HF_HUB_OFFLINE=1 to use only the local cache", inner)
{
    /// <summary>The same failure for a name the cache does not hold, where going offline would not help.</summary>
    public RelpSaeException NotCached(string reference, string cacheRoot) => new(
        $"cannot reach {endpoint} ({reason}), and {reference} is not in the Hugging Face cache at {cacheRoot}: "
        + "download it where there is a network and copy the cache here, or give a local folder", this);
}
