using RelpSae.Hub;

namespace RelpSae.Cli;

/// <summary>
/// --model and --sae values that are not folders, read as Hub names and resolved through the Hugging Face
/// cache (downloading what is missing, with a progress bar per file). A folder that exists always wins.
/// </summary>
internal static class HubNames
{
    /// <summary>The cache folder an option's value names, or null when the text is not a Hub name of that kind.</summary>
    public static string? Resolve(string name, string option)
    {
        try
        {
            return option == "--sae" ? LocalOrHub.Sae(name, progress: ShowProgress) : LocalOrHub.Model(name, progress: ShowProgress);
        }
        catch (RelpSaeException e)
        {
            // Say why a name was taken for a Hub name: a mistyped folder reads as one.
            string how = e is not HubUnreachableException && e.InnerException is HubUnreachableException ? $" (relp-sae download {name})" : "";
            throw new RelpSaeException($"{option} {name}: not a folder, so read as a Hub name: {OptionNames.Message(e)}{how}", e);
        }
    }

    /// <summary>Asks the Hub for the name's current commit and fetches what the cache lacks (relp-sae download).</summary>
    public static string Download(string name) =>
        (SaeReference.TryParse(name) is not null ? LocalOrHub.Sae(name, progress: ShowProgress, refresh: true) : LocalOrHub.Model(name, progress: ShowProgress, refresh: true))
        ?? throw new RelpSaeException($"download: \"{name}\" is neither a Hub model (org/name[@revision]) nor an SAE (release/id or org/repo/path)");

    private static void ShowProgress(string file, long size, Action<Action<long>> download) =>
        ProgressDisplay.Run($"downloading {file}", Math.Max(size, 1) / 1e6, "MB", report =>
        {
            download(bytes => report(bytes / 1e6, ""));
            return 0;
        });
}
