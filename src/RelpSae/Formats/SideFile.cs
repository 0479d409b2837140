namespace RelpSae.Formats;

/// <summary>
/// Reads the small JSON and text files that sit beside weights (config.json, tokenizer.json, cfg.json,
/// refs, index files) with a size cap, and only when they are regular files: a link to /dev/zero or a
/// 1.5 GB file would otherwise exhaust memory, and a FIFO would hang the run.
/// </summary>
public static class SideFile
{
    /// <summary>
    /// Larger than any real side file: Llama 3's tokenizer.json is 9 MB, Gemma's 33 MB, a 9B model's
    /// safetensors index 0.1 MB.
    /// </summary>
    public const long MaxBytes = 64L << 20;

    /// <summary>The whole file, once <see cref="CheckedLength"/> has found it a regular file small enough.</summary>
    public static byte[] ReadBytes(string path, long maxBytes = MaxBytes)
    {
        long length = CheckedLength(path, maxBytes);
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, 1);
        var bytes = new byte[length];
        try { stream.ReadExactly(bytes); }
        catch (EndOfStreamException) { throw new RelpSaeException($"{path}: shrank while it was read"); }
        return bytes;
    }

    /// <summary>
    /// The size of <paramref name="path"/>, refused unless it is a non-empty regular file of at most
    /// <paramref name="maxBytes"/> (on its own, for a side file read line by line rather than whole).
    /// FIFOs, sockets and devices report a size of 0 (st_size), as does an empty file, which no side
    /// file may be; refusing size 0 before opening keeps a FIFO from blocking without asking the OS
    /// for the file's type, which .NET does not expose.
    /// </summary>
    public static long CheckedLength(string path, long maxBytes = MaxBytes)
    {
        var info = new FileInfo(path);
        if (!info.Exists) throw new RelpSaeException($"{path}: no such file");
        long length = info.LinkTarget is null ? info.Length
            : info.ResolveLinkTarget(returnFinalTarget: true) is FileInfo { Exists: true } target ? target.Length
            : throw new RelpSaeException($"{path}: a link to nothing");
        if (length == 0) throw new RelpSaeException($"{path}: empty, or not a regular file");
        if (length > maxBytes)
            throw new RelpSaeException($"{path}: {length:N0} bytes, more than the {maxBytes:N0} such a file may hold");
        return length;
    }

    public static string ReadText(string path, long maxBytes = MaxBytes)
    {
        var bytes = ReadBytes(path, maxBytes);
        if (!System.Text.Unicode.Utf8.IsValid(bytes)) throw new RelpSaeException($"{path}: not valid UTF-8");
        return System.Text.Encoding.UTF8.GetString(bytes);
    }
}
