namespace RelpSae.Cli;

/// <summary>Free space is checked before a large write, so a full disk is said up front rather than found half-way.</summary>
public static class DiskSpace
{
    /// <summary>Bytes free on the file system holding <paramref name="dir"/> (unknown counts as unlimited).</summary>
    public static long FreeBytes(string dir)
    {
        try
        {
            // A folder not made yet is measured on the nearest one that exists, so the check can come before anything is created.
            var existing = Path.GetFullPath(dir);
            while (!Directory.Exists(existing) && Path.GetDirectoryName(existing) is { } parent) existing = parent;
            return new DriveInfo(existing).AvailableFreeSpace;
        }
        catch (Exception e) when (e is IOException or ArgumentException or UnauthorizedAccessException) { return long.MaxValue; }
    }

    /// <summary>Refuses when <paramref name="dir"/>'s file system has less than <paramref name="needed"/> bytes free.</summary>
    public static void Ensure(string dir, long needed, string what) => Check(dir, FreeBytes(dir), needed, what);

    /// <summary>The check of <see cref="Ensure"/> for a given free-space figure (what a test can set).</summary>
    public static void Check(string dir, long free, long needed, string what)
    {
        if (free < needed)
            throw new RelpSaeException($"--out {dir}: {free / 1e6:F1} MB free, {what} need about {needed / 1e6:F1} MB");
    }
}
