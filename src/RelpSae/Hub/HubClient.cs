using System.Globalization;
using System.Net;
using System.Net.Http.Headers;

namespace RelpSae.Hub;

/// <summary>
/// The Hub's resolve endpoint, <c>{endpoint}/{repo}/resolve/{revision}/{path}</c>: a HEAD gives the commit,
/// ETag and size (LFS files answer with a redirect to their storage, carrying X-Linked-Etag and
/// X-Linked-Size), and a GET, resumed with a Range header, gives the bytes. What the answers say becomes
/// names in the cache, so the commit and ETag must be hashes, and redirects must stay on http(s).
/// </summary>
public sealed class HubClient : IDisposable
{
    private const int MaxRedirects = 10;
    private readonly HttpClient http;

    public HubSettings Settings { get; }

    /// <param name="handler">The HTTP stack (tests may pass their own); redirects are followed here, not by it.</param>
    public HubClient(HubSettings settings, HttpMessageHandler? handler = null)
    {
        Settings = settings;
        // Each request carries its own deadline (HF_HUB_ETAG_TIMEOUT, HF_HUB_DOWNLOAD_TIMEOUT), so the client's is off.
        http = new HttpClient(handler ?? new SocketsHttpHandler { AllowAutoRedirect = false, AutomaticDecompression = DecompressionMethods.None })
        {
            Timeout = Timeout.InfiniteTimeSpan,
        };
        http.DefaultRequestHeaders.UserAgent.ParseAdd("relp-sae/0.1");
    }

    public Uri ResolveUrl(string repoId, string revision, string path) =>
        new($"{Settings.Endpoint}/{repoId}/resolve/{Uri.EscapeDataString(revision)}/{string.Join('/', path.Split('/').Select(Uri.EscapeDataString))}");

    /// <summary>The file's metadata, or null when the repository has no such file (HTTP 404 EntryNotFound).</summary>
    public HubFileInfo? TryGetInfo(string repoId, string revision, string path)
    {
        var where = $"{repoId}@{revision}: {path}";
        var url = ResolveUrl(repoId, revision, path);
        for (int hop = 0; hop <= MaxRedirects; hop++)
        {
            using var response = Send(HttpMethod.Head, url, null, Settings.EtagTimeout, "HF_HUB_ETAG_TIMEOUT", where);
            var location = response.Headers.Location is { } l ? Follow(url, l, where) : null;
            bool redirect = IsRedirect(response.StatusCode) && location is not null;
            // Relative redirects (a renamed repository) are followed for the metadata; an absolute one is
            // the file's storage, and the metadata is on the redirect itself.
            if (redirect && location!.Authority == url.Authority && !HasEtag(response))
            {
                url = location;
                continue;
            }
            if (!IsRedirect(response.StatusCode) && !response.IsSuccessStatusCode)
            {
                if (response.StatusCode == HttpStatusCode.NotFound && ErrorCode(response) is null or "EntryNotFound") return null;
                throw HubErrors.ForResponse(response, repoId, revision, path, Settings.Token is not null);
            }
            var commit = Header(response, "X-Repo-Commit")
                ?? throw new RelpSaeException($"{where}: the server sent no X-Repo-Commit header (is HF_ENDPOINT a Hub?)");
            if (!HubHashes.IsCommit(commit))
                throw new RelpSaeException($"{where}: the X-Repo-Commit header \"{commit}\" is not a commit hash (40 lowercase hex digits)");
            // The ETag names the blob and is the hash the download is checked against, so it must be one.
            var etag = NormaliseEtag(Header(response, "X-Linked-Etag") ?? response.Headers.ETag?.Tag ?? Header(response, "ETag"))
                ?? throw new RelpSaeException($"{where}: the server sent no ETag");
            if (!HubHashes.IsEtag(etag))
                throw new RelpSaeException($"{where}: the ETag \"{etag}\" is neither a git sha1 (40 hex digits) nor a sha256 (64 hex digits)");
            // A redirect's Content-Length is its own body's, not the file's.
            long size = long.TryParse(Header(response, "X-Linked-Size"), NumberStyles.None, CultureInfo.InvariantCulture, out var linked) ? linked
                : redirect ? -1 : response.Content.Headers.ContentLength ?? -1;
            return new HubFileInfo(path, commit, etag, size, redirect ? location! : url);
        }
        throw new RelpSaeException($"{where}: more than {MaxRedirects} redirects");
    }

    /// <summary>
    /// GETs the file's bytes from <paramref name="offset"/> on (Range), following redirects. The caller owns the
    /// response; a 206 continues the partial file, a 200 restarts it, a 416 to a Range says the partial file is whole.
    /// </summary>
    public HttpResponseMessage OpenDownload(HubFileInfo file, long offset, string repoId, string revision)
    {
        var where = $"{repoId}@{revision}: {file.Path}";
        var url = file.DownloadUrl;
        for (int hop = 0; hop <= MaxRedirects; hop++)
        {
            var response = Send(HttpMethod.Get, url, offset > 0 ? new RangeHeaderValue(offset, null) : null,
                Settings.DownloadTimeout, "HF_HUB_DOWNLOAD_TIMEOUT", where);
            if (IsRedirect(response.StatusCode) && response.Headers.Location is { } l)
            {
                using (response) url = Follow(url, l, where);
                continue;
            }
            if (response.IsSuccessStatusCode || offset > 0 && response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable) return response;
            using (response) throw HubErrors.ForResponse(response, repoId, revision, file.Path, Settings.Token is not null);
        }
        throw new RelpSaeException($"{where}: more than {MaxRedirects} redirects");
    }

    /// <summary>The redirect's target, if it is one HTTP can fetch (a file:// or ftp:// one would read elsewhere, or fail).</summary>
    private static Uri Follow(Uri from, Uri location, string where)
    {
        var target = new Uri(from, location);
        return target.Scheme == Uri.UriSchemeHttp || target.Scheme == Uri.UriSchemeHttps ? target
            : throw new RelpSaeException($"{where}: the server redirected to {target}; only http and https are followed");
    }

    /// <summary>Sends the request and waits for the answer's headers at most <paramref name="timeout"/> (the setting named by <paramref name="variable"/>).</summary>
    private HttpResponseMessage Send(HttpMethod method, Uri url, RangeHeaderValue? range, TimeSpan timeout, string variable, string where)
    {
        using var request = new HttpRequestMessage(method, url);
        request.Headers.AcceptEncoding.ParseAdd("identity");
        request.Headers.Range = range;
        // The token goes to the Hub only, never to the storage host a file redirects to.
        if (Settings.Token is { } token && url.GetLeftPart(UriPartial.Authority) == new Uri(Settings.Endpoint).GetLeftPart(UriPartial.Authority))
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        using var deadline = new CancellationTokenSource(timeout);
        try
        {
            return http.Send(request, HttpCompletionOption.ResponseHeadersRead, deadline.Token);
        }
        catch (Exception e) when (e is OperationCanceledException && deadline.IsCancellationRequested)
        {
            throw new RelpSaeException($"{where}: the Hub sent no answer within {Seconds(timeout)} s ({variable})", e);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            throw HubErrors.Unreachable(Settings.Endpoint, e);
        }
    }

    /// <summary>A timeout as its setting was written: 10, 0.5.</summary>
    public static string Seconds(TimeSpan timeout) => timeout.TotalSeconds.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>huggingface_hub's normalisation: a weak ETag's W/ prefix and the quotes go.</summary>
    public static string? NormaliseEtag(string? etag) =>
        etag is null ? null : (etag.StartsWith("W/", StringComparison.Ordinal) ? etag[2..] : etag).Trim('"');

    private static bool IsRedirect(HttpStatusCode code) => (int)code is >= 300 and < 400;

    private static bool HasEtag(HttpResponseMessage r) => Header(r, "X-Linked-Etag") is not null;

    private static string? ErrorCode(HttpResponseMessage r) => Header(r, "X-Error-Code");

    private static string? Header(HttpResponseMessage r, string name) =>
        r.Headers.TryGetValues(name, out var v) ? v.FirstOrDefault()
        : r.Content.Headers.TryGetValues(name, out var c) ? c.FirstOrDefault() : null;

    public void Dispose() => http.Dispose();
}
