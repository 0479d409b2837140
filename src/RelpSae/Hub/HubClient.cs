using System.Net;
using System.Net.Http.Headers;

namespace RelpSae.Hub;

/// <summary>
/// The Hub's resolve endpoint, <c>{endpoint}/{repo}/resolve/{revision}/{path}</c>: a HEAD gives the commit,
/// ETag and size (LFS files answer with a redirect to their storage, carrying X-Linked-Etag and
/// X-Linked-Size), and a GET, resumed with a Range header, gives the bytes.
/// </summary>
public sealed class HubClient : IDisposable
{
    private const int MaxRedirects = 10;
    private static readonly TimeSpan MetadataTimeout = TimeSpan.FromSeconds(30);
    private readonly HttpClient http;

    public HubSettings Settings { get; }

    /// <param name="handler">The HTTP stack (tests may pass their own); redirects are followed here, not by it.</param>
    public HubClient(HubSettings settings, HttpMessageHandler? handler = null)
    {
        Settings = settings;
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
        var url = ResolveUrl(repoId, revision, path);
        using var timeout = new CancellationTokenSource(MetadataTimeout);
        for (int hop = 0; hop <= MaxRedirects; hop++)
        {
            using var response = Send(HttpMethod.Head, url, null, timeout.Token);
            var location = response.Headers.Location is { } l ? new Uri(url, l) : null;
            // Relative redirects (a renamed repository) are followed for the metadata; an absolute one is
            // the file's storage, and the metadata is on the redirect itself.
            if (IsRedirect(response.StatusCode) && location is not null && location.Authority == url.Authority && !HasEtag(response))
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
                ?? throw new RelpSaeException($"{repoId}@{revision}: {path}: the server sent no X-Repo-Commit header (is HF_ENDPOINT a Hub?)");
            var etag = NormaliseEtag(Header(response, "X-Linked-Etag") ?? response.Headers.ETag?.Tag ?? Header(response, "ETag"));
            // The ETag names the blob file, so only a plain name will do.
            if (etag is not { Length: > 0 } || etag[0] == '.' || !etag.All(c => char.IsAsciiLetterOrDigit(c) || c is '-' or '_' or '.'))
                throw new RelpSaeException($"{repoId}@{revision}: {path}: the server sent no usable ETag (\"{etag}\")");
            long size = long.TryParse(Header(response, "X-Linked-Size"), out var linked) ? linked
                : response.Content.Headers.ContentLength ?? -1;
            return new HubFileInfo(path, commit, etag, size, IsRedirect(response.StatusCode) && location is not null ? location : url);
        }
        throw new RelpSaeException($"{repoId}@{revision}: {path}: more than {MaxRedirects} redirects");
    }

    /// <summary>
    /// GETs the file's bytes from <paramref name="offset"/> on (Range), following redirects. The caller owns the
    /// response; a 206 continues the partial file, a 200 restarts it.
    /// </summary>
    public HttpResponseMessage OpenDownload(HubFileInfo file, long offset, string repoId, string revision)
    {
        var url = file.DownloadUrl;
        for (int hop = 0; hop <= MaxRedirects; hop++)
        {
            var response = Send(HttpMethod.Get, url, offset > 0 ? new RangeHeaderValue(offset, null) : null, CancellationToken.None);
            if (IsRedirect(response.StatusCode) && response.Headers.Location is { } l)
            {
                url = new Uri(url, l);
                response.Dispose();
                continue;
            }
            if (response.IsSuccessStatusCode || response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable) return response;
            using (response) throw HubErrors.ForResponse(response, repoId, revision, file.Path, Settings.Token is not null);
        }
        throw new RelpSaeException($"{repoId}@{revision}: {file.Path}: more than {MaxRedirects} redirects");
    }

    private HttpResponseMessage Send(HttpMethod method, Uri url, RangeHeaderValue? range, CancellationToken cancel)
    {
        using var request = new HttpRequestMessage(method, url);
        request.Headers.AcceptEncoding.ParseAdd("identity");
        request.Headers.Range = range;
        // The token goes to the Hub only, never to the storage host a file redirects to.
        if (Settings.Token is { } token && url.GetLeftPart(UriPartial.Authority) == new Uri(Settings.Endpoint).GetLeftPart(UriPartial.Authority))
            request.Headers.Authorization = new AuthenticationHeaderValue("Bearer", token);
        try
        {
            return http.Send(request, HttpCompletionOption.ResponseHeadersRead, cancel);
        }
        catch (Exception e) when (e is HttpRequestException or TaskCanceledException)
        {
            throw HubErrors.Unreachable(Settings.Endpoint, e);
        }
    }

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
