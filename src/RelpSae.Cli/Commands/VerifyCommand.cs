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
        var command = new Command("verify", "Check the installation: runtime and SIMD, GEMM, model and SAE, backward pass, one attribution per method. With --model and no --sae, the model alone.") { model, sae };
        command.SetAction(parse =>
        {
            var table = new Table().AddColumns("check", "result", "details", "seconds");
            bool allPassed = true;
            // A model of one's own is checked alone unless an SAE is named: the embedded SAE fits only the embedded model.
            string? saePath = parse.GetValue(sae) ?? (parse.GetValue(model) is null ? CliDefaults.EmbeddedSae : null);
            foreach (var c in InstallationChecks.Run(CliDefaults.ModelPath(parse.GetValue(model)), saePath))
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
