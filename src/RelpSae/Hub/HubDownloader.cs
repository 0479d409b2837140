using System.Net;
using RelpSae.Formats;

namespace RelpSae.Hub;

/// <summary>Runs one file's download, so a caller can wrap it in a progress display: the file's name and
/// size in bytes, and the download itself, which reports the bytes done so far.</summary>
public delegate void DownloadRunner(string file, long size, Action<Action<long>> download);

/// <summary>
/// Brings one file into the cache as huggingface_hub does: the bytes go to blobs/&lt;etag&gt;.incomplete (resumed
/// with a Range request after a cut or a kill), are checked against the ETag, then moved to blobs/&lt;etag&gt; and
/// linked from snapshots/&lt;commit&gt;/&lt;path&gt;. A blob already there (from Python, say) is linked, not fetched.
/// No more bytes are taken than the Hub announced, and a server that stops sending is given up on.
/// </summary>
public sealed class HubDownloader(HubClient client, HubCache cache, DownloadRunner? progress = null)
{
    /// <summary>Connection cuts survived per file, each resuming where the last stopped.</summary>
    private const int Attempts = 4;
    private const int BufferBytes = 1 << 20;

    /// <summary>
    /// The most bytes taken of a file whose size the server did not announce. The Hub announces every size
    /// (Content-Length, or X-Linked-Size for LFS files); a file without one can only be a small git-stored
    /// file (the Hub keeps those under 10 MB), so the side-file cap is ample.
    /// </summary>
    public const long UnannouncedMaxBytes = SideFile.MaxBytes;

    private readonly DownloadRunner run = progress ?? ((_, _, download) => download(_ => { }));

    /// <summary>The snapshot path of the file, fetched if its blob is not in the cache yet.</summary>
    public string Fetch(string repoId, string revision, HubFileInfo file)
    {
        if (!File.Exists(cache.BlobPath(repoId, file.Etag))) Download(repoId, revision, file);
        cache.WriteRef(repoId, revision, file.Commit);
        return cache.LinkIntoSnapshot(repoId, file.Commit, file.Path, file.Etag);
    }

    private void Download(string repoId, string revision, HubFileInfo file)
    {
        var partial = cache.PartialPath(repoId, file.Etag);
        Directory.CreateDirectory(Path.GetDirectoryName(partial)!);
        run(file.Path, file.Size, report =>
        {
            for (int attempt = 1; ; attempt++)
            {
                try
                {
                    Transfer(repoId, revision, file, partial, report);
                    break;
                }
                catch (IOException e) when (HubErrors.IsDiskFull(e))
                {
                    throw new RelpSaeException($"disk full while writing {partial}: free space under {cache.Root} and run again " +
                        "(the bytes already there are kept and the download resumes)", e);
                }
                catch (IOException e) when (e is not FileNotFoundException)
                {
                    if (attempt == Attempts)
                        throw new RelpSaeException($"{repoId}: {file.Path}: the connection broke after " +
                            $"{Progress(File.Exists(partial) ? new FileInfo(partial).Length : 0, file)} " +
                            $"({e.Message}); run again to resume", e);
                }
            }
        });
        Verify(repoId, file, partial);
        File.Move(partial, cache.BlobPath(repoId, file.Etag), overwrite: true);
    }

    /// <summary>Appends the rest of the file to the partial one (or restarts it when the server ignores the Range).</summary>
    private void Transfer(string repoId, string revision, HubFileInfo file, string partial, Action<long> report)
    {
        long offset = File.Exists(partial) ? new FileInfo(partial).Length : 0;
        // More than the file holds is not a start to build on.
        if (file.Size >= 0 && offset > file.Size) offset = 0;
        if (file.Size >= 0 && offset == file.Size) return;
        using var response = client.OpenDownload(file, offset, repoId, revision);
        if (response.StatusCode == HttpStatusCode.RequestedRangeNotSatisfiable) return;
        if (response.StatusCode != HttpStatusCode.PartialContent) offset = 0;
        long limit = file.Size >= 0 ? file.Size : UnannouncedMaxBytes;
        bool overran = false;
        using (var output = new FileStream(partial, offset > 0 ? FileMode.Append : FileMode.Create, FileAccess.Write, FileShare.None, BufferBytes))
        using (var input = response.Content.ReadAsStream())
        using (var stall = new CancellationTokenSource())
        {
            var buffer = new byte[BufferBytes];
            report(offset);
            for (int read; !overran && (read = ReadWithin(input, buffer, stall, repoId, file, offset)) > 0;)
            {
                // Bytes past the announced size are not written: a body that never ends fills no disk.
                overran = offset + read > limit;
                int kept = (int)Math.Min(read, limit - offset);
                output.Write(buffer, 0, kept);
                offset += kept;
                report(offset);
            }
        }
        if (!overran) return;
        File.Delete(partial);
        throw new RelpSaeException(file.Size >= 0
            ? $"{repoId}: {file.Path}: the server sent more than the {file.Size:N0} bytes it announced; the download was discarded"
            : $"{repoId}: {file.Path}: the server announced no size and sent more than {UnannouncedMaxBytes:N0} bytes; the download was discarded");
    }

    /// <summary>The next piece of the body, waiting for it at most HF_HUB_DOWNLOAD_TIMEOUT (the HTTP stream has no read timeout of its own).</summary>
    private int ReadWithin(Stream input, byte[] buffer, CancellationTokenSource stall, string repoId, HubFileInfo file, long offset)
    {
        stall.CancelAfter(client.Settings.DownloadTimeout);
        try
        {
            return input.ReadAsync(buffer, stall.Token).AsTask().GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is OperationCanceledException or IOException && stall.IsCancellationRequested)
        {
            throw new RelpSaeException($"{repoId}: {file.Path}: the server sent nothing for {HubClient.Seconds(client.Settings.DownloadTimeout)} s " +
                $"(HF_HUB_DOWNLOAD_TIMEOUT) after {Progress(offset, file)}; run again to resume", e);
        }
    }

    /// <summary>How far a download has come: "1000 of 3722552 bytes".</summary>
    private static string Progress(long have, HubFileInfo file) => file.Size >= 0 ? $"{have} of {file.Size} bytes" : $"{have} bytes";

    /// <summary>The whole file must hash to the ETag before it may become a blob; a bad one is deleted, not kept.</summary>
    private static void Verify(string repoId, HubFileInfo file, string partial)
    {
        long length = new FileInfo(partial).Length;
        using var hash = new ContentHash(file.Etag, length);
        using (var stream = new FileStream(partial, FileMode.Open, FileAccess.Read, FileShare.Read, BufferBytes))
        {
            var buffer = new byte[BufferBytes];
            for (int read; (read = stream.Read(buffer)) > 0;) hash.Append(buffer.AsSpan(0, read));
        }
        bool sizeOk = file.Size < 0 || length == file.Size;
        bool hashOk = hash.Matches(out var actual);
        if (sizeOk && hashOk) return;
        File.Delete(partial);
        throw new RelpSaeException(sizeOk
            ? $"{repoId}: {file.Path}: the download hashes to {actual} but the Hub reported {file.Etag}; the file was discarded, run again"
            : $"{repoId}: {file.Path}: got {length} bytes but the Hub reported {file.Size}; the download was discarded, run again");
    }
}
