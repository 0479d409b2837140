using System.Collections.Concurrent;
using System.Net;
using System.Net.Sockets;
using System.Security.Cryptography;
using System.Text;

namespace RelpSae.Tests.Hub;

/// <summary>
/// A local stand-in for the Hub's resolve endpoints on 127.0.0.1: small files answer 200 with their git blob
/// sha1 as ETag, LFS files (over 100 kB) a 302 to /cdn/&lt;sha256&gt; carrying X-Linked-Etag and X-Linked-Size;
/// every answer carries X-Repo-Commit. /cdn honours Range. Unknown repositories answer 401 RepoNotFound,
/// missing files 404 EntryNotFound, gated ones 403 GatedRepo; a file can be cut halfway once, or served corrupted.
/// A hostile Hub is one knob away: a commit header or ETag that is no hash, a body that runs on or stalls,
/// a redirect to another scheme, a 416 answer.
/// </summary>
internal sealed class FakeHub : IDisposable
{
    private const int LfsThreshold = 100_000;
    private readonly HttpListener listener = new();
    private readonly Dictionary<string, Dictionary<string, byte[]>> repos = new();
    private readonly Dictionary<string, byte[]> lfs = new();

    public string Endpoint { get; }
    public HashSet<string> Gated { get; } = [];
    /// <summary>Private repositories and the token that opens each.</summary>
    public Dictionary<string, string> Private { get; } = [];
    /// <summary>Old repository names the Hub answers with a relative redirect to the new one.</summary>
    public Dictionary<string, string> Renamed { get; } = [];
    /// <summary>Paths whose next GET stops after half the bytes, dropping the connection.</summary>
    public ConcurrentDictionary<string, bool> CutOnce { get; } = new();
    /// <summary>Paths whose bytes are served with one byte flipped (the headers still give the true hash).</summary>
    public HashSet<string> Corrupt { get; } = [];
    /// <summary>Sent as X-Repo-Commit in place of the true commit.</summary>
    public string? CommitHeader { get; set; }
    /// <summary>Sent as the ETag of every file in place of its hash.</summary>
    public string? EtagHeader { get; set; }
    /// <summary>Paths whose HEAD announces no size (neither Content-Length nor X-Linked-Size).</summary>
    public HashSet<string> Unannounced { get; } = [];
    /// <summary>
    /// Paths whose GET sends the file and then runs on, chunked with no Content-Length, for another
    /// <see cref="OverrunBytes"/> (bounded so that a client without a limit fills the disk only so far).
    /// </summary>
    public HashSet<string> Overrun { get; } = [];
    public const long OverrunBytes = 100L << 20;
    /// <summary>Paths whose GET sends half the bytes and then nothing, holding the connection open.</summary>
    public HashSet<string> StallBody { get; } = [];
    /// <summary>Paths whose HEAD is never answered.</summary>
    public HashSet<string> StallHead { get; } = [];
    /// <summary>Paths whose GET redirects to the given location.</summary>
    public Dictionary<string, string> RedirectGet { get; } = [];
    /// <summary>Paths whose GET answers 416 Range Not Satisfiable, Range or not.</summary>
    public HashSet<string> RangeNotSatisfiable { get; } = [];
    private readonly ManualResetEventSlim stopped = new();
    /// <summary>"METHOD /path [Range]" of every request, in order.</summary>
    public ConcurrentQueue<string> Log { get; } = new();

    public FakeHub()
    {
        var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        int port = ((IPEndPoint)probe.LocalEndpoint).Port;
        probe.Stop();
        Endpoint = $"http://127.0.0.1:{port}";
        listener.Prefixes.Add(Endpoint + "/");
        listener.Start();
        _ = Task.Run(Serve);
    }

    /// <summary>The files of the embedded default model and SAE as org/tarot and org/tarot-saes/blocks.2.hook_resid_post.</summary>
    public static FakeHub WithTarot()
    {
        var hub = new FakeHub();
        var model = Path.Combine(AppContext.BaseDirectory, "models", "default", "model");
        var sae = Path.Combine(AppContext.BaseDirectory, "models", "default", "sae");
        hub.Add("org/tarot", Directory.GetFiles(model).ToDictionary(f => Path.GetFileName(f), File.ReadAllBytes));
        hub.Add("org/tarot-saes", Directory.GetFiles(sae).ToDictionary(f => "blocks.2.hook_resid_post/" + Path.GetFileName(f), File.ReadAllBytes));
        return hub;
    }

    public void Add(string repo, Dictionary<string, byte[]> files)
    {
        repos[repo] = files;
        foreach (var bytes in files.Values.Where(b => b.Length > LfsThreshold)) lfs[Sha256(bytes)] = bytes;
    }

    public static string Commit(string repo) => Convert.ToHexStringLower(SHA1.HashData(Encoding.UTF8.GetBytes(repo)));
    public static string Sha256(byte[] bytes) => Convert.ToHexStringLower(SHA256.HashData(bytes));
    public static string GitBlobSha1(byte[] bytes) =>
        Convert.ToHexStringLower(SHA1.HashData([.. Encoding.ASCII.GetBytes($"blob {bytes.Length}\0"), .. bytes]));
    public static string Etag(byte[] bytes) => bytes.Length > LfsThreshold ? Sha256(bytes) : GitBlobSha1(bytes);

    public int Requests(string method, string pathEnd) => Log.Count(l => l.StartsWith(method + " ") && l.Split(' ')[1].EndsWith(pathEnd));

    private async Task Serve()
    {
        while (listener.IsListening)
        {
            HttpListenerContext context;
            try { context = await listener.GetContextAsync(); }
            catch (Exception e) when (e is HttpListenerException or ObjectDisposedException or InvalidOperationException) { return; }
            // Each request on its own task, so that a stalled answer holds up no other.
            _ = Task.Run(() =>
            {
                try { Handle(context.Request, context.Response); }
                catch (Exception e) when (e is HttpListenerException or IOException or ObjectDisposedException or InvalidOperationException) { }
            });
        }
    }

    private void Handle(HttpListenerRequest request, HttpListenerResponse response)
    {
        var path = Uri.UnescapeDataString(request.Url!.AbsolutePath);
        Log.Enqueue($"{request.HttpMethod} {path} {request.Headers["Range"]}".TrimEnd());
        if (path.StartsWith("/cdn/") && lfs.TryGetValue(path[5..], out var blob))
        {
            var name = repos.Values.SelectMany(r => r).First(kv => kv.Value == blob).Key;
            Send(request, response, name, blob);
            return;
        }
        var parts = path.TrimStart('/').Split('/', 5);
        if (parts.Length < 5 || parts[2] != "resolve")
        {
            Fail(response, 404, null);
            return;
        }
        var (repo, revision, file) = ($"{parts[0]}/{parts[1]}", parts[3], parts[4]);
        if (Renamed.TryGetValue(repo, out var renamed))
        {
            response.StatusCode = 307;
            response.RedirectLocation = $"/{renamed}/resolve/{revision}/{file}";
            response.Close();
            return;
        }
        if (!repos.TryGetValue(repo, out var files) || Private.TryGetValue(repo, out var token) && request.Headers["Authorization"] != $"Bearer {token}")
        {
            Fail(response, 401, "RepoNotFound");
            return;
        }
        if (Gated.Contains(repo)) { Fail(response, 403, "GatedRepo"); return; }
        if (revision != "main" && revision != Commit(repo)) { Fail(response, 404, "RevisionNotFound"); return; }
        if (!files.TryGetValue(file, out var bytes)) { Fail(response, 404, "EntryNotFound"); return; }
        if (request.HttpMethod == "HEAD" && StallHead.Contains(file)) { stopped.Wait(); return; }
        response.Headers["X-Repo-Commit"] = CommitHeader ?? Commit(repo);
        if (request.HttpMethod == "GET" && RedirectGet.TryGetValue(file, out var location))
        {
            response.StatusCode = 302;
            response.Headers["Location"] = location;
            response.Close();
            return;
        }
        if (bytes.Length > LfsThreshold)
        {
            response.StatusCode = 302;
            response.RedirectLocation = $"{Endpoint}/cdn/{Sha256(bytes)}";
            response.Headers["X-Linked-Etag"] = EtagHeader ?? $"\"{Sha256(bytes)}\"";
            if (!Unannounced.Contains(file)) response.Headers["X-Linked-Size"] = bytes.Length.ToString();
            response.Close();
            return;
        }
        response.Headers["ETag"] = EtagHeader ?? $"\"{GitBlobSha1(bytes)}\"";
        Send(request, response, file, bytes);
    }

    private void Send(HttpListenerRequest request, HttpListenerResponse response, string name, byte[] bytes)
    {
        if (Corrupt.Contains(name)) { bytes = (byte[])bytes.Clone(); bytes[bytes.Length / 2] ^= 0xFF; }
        if (request.HttpMethod == "GET" && RangeNotSatisfiable.Contains(name)) { Fail(response, 416, null); return; }
        if (request.HttpMethod == "HEAD" && Unannounced.Contains(name))
        {
            response.SendChunked = true;
            response.Close();
            return;
        }
        if (request.HttpMethod == "GET" && Overrun.Contains(name))
        {
            response.SendChunked = true;
            response.OutputStream.Write(bytes);
            var more = new byte[1 << 20];
            for (long sent = 0; sent < OverrunBytes; sent += more.Length) response.OutputStream.Write(more);
            response.Close();
            return;
        }
        int start = 0;
        if (request.Headers["Range"] is { } range && range.StartsWith("bytes=") && range.EndsWith('-'))
        {
            start = int.Parse(range[6..^1]);
            response.StatusCode = 206;
            response.Headers["Content-Range"] = $"bytes {start}-{bytes.Length - 1}/{bytes.Length}";
        }
        response.ContentLength64 = bytes.Length - start;
        if (request.HttpMethod == "HEAD") { response.Close(); return; }
        if (StallBody.Contains(name))
        {
            response.OutputStream.Write(bytes, start, (bytes.Length - start) / 2);
            response.OutputStream.Flush();
            stopped.Wait();
            return;
        }
        if (CutOnce.TryRemove(name, out _))
        {
            response.OutputStream.Write(bytes, start, (bytes.Length - start) / 2);
            response.OutputStream.Flush();
            response.Abort();
            return;
        }
        response.OutputStream.Write(bytes, start, bytes.Length - start);
        response.Close();
    }

    private static void Fail(HttpListenerResponse response, int status, string? code)
    {
        response.StatusCode = status;
        if (code is not null) response.Headers["X-Error-Code"] = code;
        response.Close();
    }

    public void Dispose()
    {
        stopped.Set();
        listener.Close();
    }
}
