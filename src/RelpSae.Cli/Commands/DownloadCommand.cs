using System.CommandLine;
namespace RelpSae.Cli.Commands;

/// <summary><c>relp-sae download</c>: fetch models and SAEs by name into the Hugging Face cache, as Python would.</summary>
public static class DownloadCommand
{
    public static Command Create()
    {
        var names = new Argument<string[]>("names")
        {
            Description = "Models (gpt2, org/name, org/name@revision) and SAEs (release/sae-id, org/repo/path/inside/repo).",
            Arity = ArgumentArity.OneOrMore,
        };
        var command = new Command("download", "Download models and SAEs into the Hugging Face cache (HF_HUB_CACHE) and print their folders.") { names };
        command.SetAction(parse =>
        {
            foreach (var name in parse.GetValue(names)!)
                Console.WriteLine($"{name}  {HubNames.Download(name)}");
            return 0;
        });
        return command;
    }
}
