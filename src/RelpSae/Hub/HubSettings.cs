namespace RelpSae.Hub;

/// <summary>
/// Where the Hugging Face cache is and how the Hub is reached, as huggingface_hub reads them: the cache is
/// HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub; the Hub is HF_ENDPOINT (default
/// https://huggingface.co), HF_TOKEN authenticates, HF_HUB_OFFLINE=1 forbids the network.
/// </summary>
public sealed record HubSettings(string CacheDir, string Endpoint, string? Token = null, bool Offline = false)
{
    public const string DefaultEndpoint = "https://huggingface.co";

    /// <summary>The settings the given environment implies (tests pass their own lookup instead of mutating the process's).</summary>
    public static HubSettings FromEnvironment(Func<string, string?> env)
    {
        string? Get(string name) => env(name) is { Length: > 0 } v ? v : null;
        var home = Get("HF_HOME") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "huggingface");
        var cache = Get("HF_HUB_CACHE") ?? Path.Combine(home, "hub");
        var offline = Get("HF_HUB_OFFLINE")?.ToLowerInvariant() is "1" or "true" or "yes" or "on";
        return new HubSettings(cache, (Get("HF_ENDPOINT") ?? DefaultEndpoint).TrimEnd('/'), Get("HF_TOKEN"), offline);
    }

    public static HubSettings FromProcessEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);
}
