using System.CommandLine;

namespace RelpSae.Cli;

/// <summary>--force and the checks it overrides: an --out never silently replaces another run's or model's files.</summary>
internal static class Overwrite
{
    public static Option<bool> ForceOption() => new("--force") { Description = "Replace what --out already holds." };

    /// <summary>Refuses an existing file unless forced.</summary>
    public static void CheckFile(string path, bool force)
    {
        if (File.Exists(path) && !force)
            throw new RelpSaeException($"--out {path} already exists; pass --force to replace it");
    }

    /// <summary>Refuses a folder that holds any of <paramref name="files"/> (they are <paramref name="what"/>) unless forced.</summary>
    public static void CheckFolder(string dir, bool force, IEnumerable<string> files, string what)
    {
        var present = files.FirstOrDefault(f => File.Exists(Path.Combine(dir, f)));
        if (present is not null && !force)
            throw new RelpSaeException($"--out {dir} already holds {what} ({present}); pass --force to replace it, or choose another folder");
    }
}
