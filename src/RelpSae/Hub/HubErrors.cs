using System.Net;

namespace RelpSae.Hub;

/// <summary>The Hub's refusals as one-line errors that say what to do (huggingface_hub's X-Error-Code values).</summary>
internal static class HubErrors
{
    public static RelpSaeException ForResponse(HttpResponseMessage response, string repoId, string revision, string path, bool hasToken)
    {
        var code = response.Headers.TryGetValues("X-Error-Code", out var values) ? values.FirstOrDefault() : null;
        var where = $"{repoId}@{revision}: {path}";
        return (code, response.StatusCode) switch
        {
            ("GatedRepo", _) => new RelpSaeException(
                $"{repoId} is a gated model: accept its conditions on its Hub page and set HF_TOKEN to a token of that account"),
            ("RepoNotFound", _) or (_, HttpStatusCode.Unauthorized) => new RelpSaeException(hasToken
                ? $"{repoId}: repository not found, or HF_TOKEN gives no access to it (HTTP {(int)response.StatusCode})"
                : $"{repoId}: repository not found, or private (set HF_TOKEN if it is yours) (HTTP {(int)response.StatusCode})"),
            ("RevisionNotFound", _) => new RelpSaeException($"{repoId}: revision \"{revision}\" not found"),
            (_, HttpStatusCode.Forbidden) => new RelpSaeException($"{where}: access denied (HTTP 403){(hasToken ? "" : "; set HF_TOKEN")}"),
            ("EntryNotFound", _) or (_, HttpStatusCode.NotFound) => new RelpSaeException($"{where}: no such file on the Hub (HTTP 404)"),
            _ => new RelpSaeException($"{where}: the Hub answered HTTP {(int)response.StatusCode} {response.ReasonPhrase}"),
        };
    }

    public static HubUnreachableException Unreachable(string endpoint, Exception e) => new(endpoint, Innermost(e).Message, e);

    /// <summary>ENOSPC (28) on Linux, ERROR_DISK_FULL / ERROR_HANDLE_DISK_FULL on Windows.</summary>
    public static bool IsDiskFull(IOException e) =>
        (e.HResult & 0xFFFF) is 28 or 0x70 or 0x27 || e.Message.Contains("No space left", StringComparison.OrdinalIgnoreCase);

    private static Exception Innermost(Exception e) => e.InnerException is { } inner ? Innermost(inner) : e;
}
