namespace RelpSae.Hub;

/// <summary>
/// A model or SAE as users name it: a folder (for an SAE also a Gemma Scope .npz or dictionary_learning .pt
/// file, or a transcoder's file) that exists always wins; any other text is read as a Hub name and resolved through the Hugging
/// Face cache, downloading what is missing.
/// </summary>
public static class LocalOrHub
{
    /// <summary>The model folder: <paramref name="name"/> itself, or its snapshot in the cache; null when it is neither a folder nor a Hub name.</summary>
    public static string? Model(string name, HubSettings? settings = null, DownloadRunner? progress = null, bool refresh = false) =>
        Directory.Exists(name) && !refresh ? name
            : ModelReference.TryParse(name) is { } model ? Resolver(settings, progress).ResolveModel(model, refresh) : null;

    /// <summary>The SAE (or transcoder) folder or file: <paramref name="name"/> itself, or its folder in the cache; null when it is neither.</summary>
    public static string? Sae(string name, HubSettings? settings = null, DownloadRunner? progress = null, bool refresh = false) =>
        (Directory.Exists(name) || File.Exists(name) && (RelpSae.Sae.SaeFiles.IsCommunityFile(name) || RelpSae.Sae.TranscoderFiles.IsTranscoder(name))) && !refresh ? name
            : SaeReference.TryParse(name) is { } sae ? Resolver(settings, progress).ResolveSae(sae, refresh) : null;

    /// <summary>What an SAE name's release expects of the model (nothing for a folder or a plain repository).</summary>
    public static SaeProcessing ProcessingOf(string sae) =>
        Directory.Exists(sae) || File.Exists(sae) ? SaeProcessing.None : SaeReference.TryParse(sae)?.Processing ?? SaeProcessing.None;

    private static HubResolver Resolver(HubSettings? settings, DownloadRunner? progress) =>
        new(settings ?? HubSettings.FromProcessEnvironment(), progress);
}
