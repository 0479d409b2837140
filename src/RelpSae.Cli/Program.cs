using System.CommandLine;
using RelpSae.Cli;
using RelpSae.Cli.Commands;

var root = new RootCommand("relp-sae: attribute a GPT-2-family model's output to sparse-autoencoder features, faithfully.");
root.Options.Add(CliRunner.Verbose);
foreach (var command in new[]
{
    VersionCommand.Create(),
    TokenizeCommand.Create(),
    MergeCommand.Create(),
    BenchCommand.Create(),
    GenerateCommand.Create(),
    AttributeCommand.Create(),
    EvaluateCommand.Create(),
    VerifyCommand.Create(),
    ConvertCommand.Create(),
})
    root.Subcommands.Add(command);

return CliRunner.Invoke(root, args);
