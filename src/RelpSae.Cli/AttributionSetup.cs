using RelpSae.Attribution;
using RelpSae.Model;
using RelpSae.Prompts;
using RelpSae.Sae;

namespace RelpSae.Cli;

/// <summary>
/// What attribute and evaluate both load: the model, the SAE and its hook, and the prompt resolver. A transcoder's file
/// (<see cref="TranscoderFiles"/>) loads too: its dictionary is the SAE, its output hook the hook, spliced at its MLP.
/// </summary>
internal sealed record AttributionSetup(ModelFolder Bundle, SparseAutoencoder Sae, HookPoint Hook, PromptResolver Resolver, string SaeDir,
    string SaePath, Transcoder? Transcoder)
{
    /// <summary>Where the dictionary sits, for the report: its hook, or a transcoder's input and output hooks.</summary>
    public string Site => Transcoder is { } t ? $"{t.InputHook} → {t.OutputHook} (transcoder)" : Hook.ToString();

    /// <summary>The SAE (or transcoder) spliced into the model for one prompt.</summary>
    public SaeSplice Splice(int[] tokens, Baseline baseline) => Transcoder is { } transcoder
        ? SaeSplice.CreateTranscoder(Bundle.Transformer, transcoder, SaePath, tokens, baseline)
        : SaeSplice.Create(Bundle.Transformer, Sae, Hook, tokens, baseline);

    public static AttributionSetup Load(string modelDir, string saeDir, bool centerWritingWeights, string? baseline, string? metric,
        bool prependBos, int position = -1, bool truncate = false, PromptCase? promptCase = null)
    {
        // An SAE release named on the command line brings the processing its SAEs were trained with.
        var processing = Hub.LocalOrHub.ProcessingOf(saeDir);
        if (processing.CenterWritingWeights && !centerWritingWeights || processing.PrependBos && !prependBos)
            Console.Error.WriteLine($"note: {saeDir} expects {processing}: applied");
        centerWritingWeights |= processing.CenterWritingWeights;
        prependBos |= processing.PrependBos;
        var bundle = ModelFolder.Load(CliDefaults.ExistingFolder(modelDir, "--model"), centerWritingWeights, CliDefaults.Holding);
        if (promptCase is not null) PromptResolver.CheckTokenizer(promptCase, bundle.Tokenizer);
        saeDir = CliDefaults.ExistingSae(saeDir);
        var transcoder = TranscoderFiles.IsTranscoder(saeDir) ? TranscoderFiles.Load(saeDir) : null;
        var sae = transcoder?.Dictionary ?? SaeFiles.Load(saeDir);
        var hook = transcoder is null ? SaeFiles.Hook(sae, bundle.Facts, saeDir) : transcoder.Hooks(bundle.Facts, saeDir).Output;
        var baselineKind = CliParsing.Baseline(baseline);
        var resolver = new PromptResolver(bundle.Transformer, bundle.Tokenizer, CliParsing.Metric(metric), baselineKind,
            baselineKind == BaselineKind.Mean ? CliDefaults.FeatureMeansOf(CliDefaults.SaeFolder(saeDir)) : null, prependBos, position, truncate);
        return new AttributionSetup(bundle, sae, hook, resolver, CliDefaults.SaeFolder(saeDir), saeDir, transcoder);
    }
}
