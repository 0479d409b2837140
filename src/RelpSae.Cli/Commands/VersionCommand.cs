using System.CommandLine;
using System.Runtime.Intrinsics;

namespace RelpSae.Cli.Commands;

/// <summary><c>relp-sae version</c>: the tool's version, the runtime and the SIMD width in use.</summary>
public static class VersionCommand
{
    public static Command Create()
    {
        var command = new Command("version", "Print the version, the .NET runtime and the SIMD path.");
        command.SetAction(_ =>
        {
            var simd = Vector512.IsHardwareAccelerated ? "Vector512" : Vector256.IsHardwareAccelerated ? "Vector256" : "scalar";
            Console.WriteLine($"relp-sae {typeof(RelpSaeException).Assembly.GetName().Version} on .NET {Environment.Version}, SIMD {simd}, {Environment.ProcessorCount} cores");
            return 0;
        });
        return command;
    }
}
