namespace RelpSae.Reports;

/// <summary>
/// Holds an output folder for one run: an exclusive lock on its .lock file (flock on Unix, released by
/// the OS if the process dies), so two runs on one folder cannot interleave their writes.
/// </summary>
public sealed class FolderLock : IDisposable
{
    public const string FileName = ".lock";
    private readonly FileStream _stream;

    private FolderLock(FileStream stream) => _stream = stream;

    /// <summary>Locks <paramref name="dir"/> (which must exist), or says that another run holds it.</summary>
    public static FolderLock Acquire(string dir)
    {
        var path = Path.Combine(dir, FileName);
        try
        {
            return new FolderLock(new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.None, 1, FileOptions.DeleteOnClose));
        }
        catch (IOException) when (File.Exists(path))
        {
            throw new SettingException(name => $"{dir} is in use by another run (it holds {FileName}); wait for that run or choose another {name(Setting.OutputFolder)}");
        }
    }

    public void Dispose() => _stream.Dispose();
}
