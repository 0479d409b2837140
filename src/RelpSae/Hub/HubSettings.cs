using System.Globalization;

namespace RelpSae.Hub;

/// <summary>
/// Where the Hugging Face cache is and how the Hub is reached, as huggingface_hub reads them: the cache is
/// HF_HUB_CACHE, else HF_HOME/hub, else ~/.cache/huggingface/hub; the Hub is HF_ENDPOINT (default
/// https://huggingface.co), HF_TOKEN authenticates, HF_HUB_OFFLINE=1 forbids the network. A metadata
/// request waits HF_HUB_ETAG_TIMEOUT seconds for its answer, a download HF_HUB_DOWNLOAD_TIMEOUT seconds
/// for each next piece of its bytes (10 each by default, as there).
/// </summary>
public sealed record HubSettings(string CacheDir, string Endpoint, string? Token = null, bool Offline = false)
{
    public const string DefaultEndpoint = "https://huggingface.co";
    public static readonly TimeSpan DefaultTimeout = TimeSpan.FromSeconds(10);
    /// <summary>About eleven days: longer than anyone waits, short enough for any timer.</summary>
    private const double MaxTimeoutSeconds = 1e6;

    public TimeSpan EtagTimeout { get; init; } = DefaultTimeout;
    public TimeSpan DownloadTimeout { get; init; } = DefaultTimeout;

    /// <summary>The settings the given environment implies (tests pass their own lookup instead of mutating the process's).</summary>
    public static HubSettings FromEnvironment(Func<string, string?> env)
    {
        string? Get(string name) => env(name) is { Length: > 0 } v ? v : null;
        TimeSpan Seconds(string name) => Get(name) is not { } text ? DefaultTimeout
            : double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out var s) && s is > 0 and <= MaxTimeoutSeconds
                ? TimeSpan.FromSeconds(s)
                : throw new RelpSaeException($"{name}=\"{text}\" is not a positive number of seconds (at most {MaxTimeoutSeconds:0})");
        var home = Get("HF_HOME") ?? Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache", "huggingface");
        var cache = Get("HF_HUB_CACHE") ?? Path.Combine(home, "hub");
        var offline = Get("HF_HUB_OFFLINE")?.ToLowerInvariant() is "1" or "true" or "yes" or "on";
        return new HubSettings(cache, (Get("HF_ENDPOINT") ?? DefaultEndpoint).TrimEnd('/'), Get("HF_TOKEN"), offline)
        {
            EtagTimeout = Seconds("HF_HUB_ETAG_TIMEOUT"),
            DownloadTimeout = Seconds("HF_HUB_DOWNLOAD_TIMEOUT"),
        };
    }

    public static HubSettings FromProcessEnvironment() => FromEnvironment(Environment.GetEnvironmentVariable);
}
