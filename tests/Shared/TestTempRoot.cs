using System.Diagnostics;
using System.Runtime.CompilerServices;

namespace RelpSae.Tests;

/// <summary>
/// Every temporary file and folder of a test process lies under one folder of its own, removed when the process
/// ends: the tests make hundreds (Directory.CreateTempSubdirectory and Path.GetTempPath read TMPDIR at each call),
/// and the system's temporary folder kept every one of them from run to run. The test host is often stopped
/// rather than left to exit, so each start also removes the folders of test processes that no longer run.
/// Compiled into both test assemblies.
/// </summary>
internal static class TestTempRoot
{
    private const string Prefix = "relp-sae-tests-";

#pragma warning disable CA2255 // a test assembly's own set-up, before any test reads the temporary folder
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Redirect()
    {
        var system = Path.GetTempPath();
        foreach (var stale in Directory.EnumerateDirectories(system, Prefix + "*"))
            if (!Running(Path.GetFileName(stale))) TryDelete(stale);
        var root = Directory.CreateTempSubdirectory($"{Prefix}{Environment.ProcessId}-").FullName;
        Environment.SetEnvironmentVariable("TMPDIR", root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) => TryDelete(root);
    }

    /// <summary>Whether the process that made the folder named <paramref name="name"/> (prefix, its id, a dash) still runs.</summary>
    private static bool Running(string name)
    {
        var id = name[Prefix.Length..].Split('-')[0];
        if (!int.TryParse(id, out int pid)) return true;   // not one of ours: left alone
        try
        {
            using var process = Process.GetProcessById(pid);
            return !process.HasExited;
        }
        catch (ArgumentException) { return false; }
    }

    private static void TryDelete(string dir)
    {
        try { Directory.Delete(dir, recursive: true); }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
    }
}
