using RelpSae.Cli;
using RelpSae.Sae;

namespace RelpSae.Tests.Cli;

/// <summary>Tests that swap the process's console streams run one at a time.</summary>
[CollectionDefinition(nameof(ConsoleCollection), DisableParallelization = true)]
public sealed class ConsoleCollection;

/// <summary>Runs the relp-sae command line in-process, capturing what it prints.</summary>
internal static class CliHarness
{
    public static (int Code, string Out, string Error) Run(params string[] args)
    {
        var (oldOut, oldError) = (Console.Out, Console.Error);
        var (output, error) = (new StringWriter(), new StringWriter());
        Console.SetOut(output);
        Console.SetError(error);
        try { return (CliApp.Run(args), output.ToString(), error.ToString()); }
        finally { Console.SetOut(oldOut); Console.SetError(oldError); }
    }

    public static string Tarot => TestPaths.Data("tarot-gpt2");

    /// <summary>A small random SAE on the tarot model's blocks.2.hook_resid_post (or the given hook and width).</summary>
    public static string RandomSae(string hook = "blocks.2.hook_resid_post", int dIn = 128)
    {
        var sae = Sae.SaeTestData.RandomSae(Sae.SaeTestData.Config(SaeArchitecture.Standard, dIn, 4 * dIn) with { HookName = hook }, seed: 1);
        var dir = Directory.CreateTempSubdirectory().FullName;
        SaeFiles.Save(dir, sae);
        return dir;
    }
}
