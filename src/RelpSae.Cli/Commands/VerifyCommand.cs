using System.CommandLine;
using RelpSae.Verification;
using Spectre.Console;

namespace RelpSae.Cli.Commands;

/// <summary><c>relp-sae verify</c>: checks the installation end to end and prints a pass/fail table.</summary>
public static class VerifyCommand
{
    public static Command Create()
    {
        var model = CliDefaults.ModelOption();
        var sae = CliDefaults.SaeOption();
        var command = new Command("verify", "Check the installation: runtime and SIMD, GEMM, model and SAE, backward pass, one attribution per method.") { model, sae };
        command.SetAction(parse =>
        {
            var table = new Table().AddColumns("check", "result", "details", "seconds");
            bool allPassed = true;
            foreach (var c in InstallationChecks.Run(CliDefaults.ModelPath(parse.GetValue(model)), CliDefaults.SaePath(parse.GetValue(sae))))
            {
                allPassed &= c.Passed;
                table.AddRow(Markup.Escape(c.Name), c.Passed ? "[green]pass[/]" : "[red]FAIL[/]", Markup.Escape(c.Detail), $"{c.Seconds:F2}");
            }
            AnsiConsole.Write(table);
            Console.WriteLine(allPassed ? "all checks passed" : "some checks FAILED");
            return allPassed ? 0 : 1;
        });
        return command;
    }
}
