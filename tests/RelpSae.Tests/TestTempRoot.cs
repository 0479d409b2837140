using System.Runtime.CompilerServices;

namespace RelpSae.Tests;

/// <summary>
/// Every temporary file and folder of a test run lies under one folder, removed when the run ends: the tests make
/// hundreds (Directory.CreateTempSubdirectory and Path.GetTempPath read TMPDIR at each call), and the system's
/// temporary folder kept every one of them from run to run.
/// </summary>
internal static class TestTempRoot
{
#pragma warning disable CA2255 // a test assembly's own set-up, before any test reads the temporary folder
    [ModuleInitializer]
#pragma warning restore CA2255
    internal static void Redirect()
    {
        var root = Directory.CreateTempSubdirectory("relp-sae-tests-").FullName;
        Environment.SetEnvironmentVariable("TMPDIR", root);
        AppDomain.CurrentDomain.ProcessExit += (_, _) =>
        {
            try { Directory.Delete(root, recursive: true); }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException) { }
        };
    }
}
