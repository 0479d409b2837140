namespace RelpSae.Formats;

/// <summary>
/// A file that appears whole or not at all: written to a temporary file beside it (named by the process, so two
/// writers never share one) and renamed over it, the temporary removed if the writing fails. A reader never sees
/// half a file, and an interrupted run leaves any earlier file as it was.
/// </summary>
public static class AtomicFile
{
    public static void Write(string path, Action<FileStream> write)
    {
        string temp = $"{path}.{Environment.ProcessId}.tmp";
        try
        {
            using (var stream = new FileStream(temp, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 16))
                write(stream);
            File.Move(temp, path, overwrite: true);
        }
        finally
        {
            if (File.Exists(temp)) File.Delete(temp);
        }
    }

    /// <summary>The text as UTF-8 (no byte-order mark), appearing whole.</summary>
    public static void WriteText(string path, string text) =>
        Write(path, stream => { using var writer = new StreamWriter(stream); writer.Write(text); });
}
