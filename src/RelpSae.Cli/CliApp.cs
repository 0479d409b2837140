using System.CommandLine;
using RelpSae.Cli.Commands;

namespace RelpSae.Cli;

/// <summary>The relp-sae command tree.</summary>
public static class CliApp
{
    public static RootCommand Build()
    {
        var root = new RootCommand("relp-sae: attribute a GPT-2, Llama-family, Gemma-2, Gemma 3 or GPT-NeoX model's output to sparse-autoencoder features, faithfully.");
        root.Options.Add(CliRunner.Verbose);
        root.Options.Add(CliDefaults.DType);
        foreach (var command in new[]
        {
            AttributeCommand.Create(),
            EvaluateCommand.Create(),
            TrainSaeCommand.Create(),
            EvalSaeCommand.Create(),
            FeaturesCommand.Create(),
            GraphCommand.Create(),
            MergeCommand.Create(),
            VerifyCommand.Create(),
            GenerateCommand.Create(),
            SampleTextCommand.Create(),
            TokenizeCommand.Create(),
            ConvertCommand.Create(),
            DownloadCommand.Create(),
            BenchCommand.Create(),
            VersionCommand.Create(),
        })
            root.Subcommands.Add(command);
        HelpText.Apply(root);
        return root;
    }

    /// <summary>Runs a command line as the relp-sae executable would; returns the exit code.</summary>
    public static int Run(string[] args) => CliRunner.Invoke(Build(), args);
}
