using RelpSae.Attribution;
using RelpSae.Interventions;
using RelpSae.Model;
using RelpSae.Prompts;
using RelpSae.Sae;

namespace RelpSae.Cli;

/// <summary>
/// What attribute and evaluate both load: the model, the SAE and its hook, and the prompt resolver. A transcoder's file
/// (<see cref="TranscoderFiles"/>) loads too: its dictionary is the SAE, its output hook the hook, spliced at its MLP. Feature
/// interventions, when given, are in force in the model whose predictions are resolved and spliced.
/// </summary>
internal sealed record AttributionSetup(ModelFolder Bundle, SparseAutoencoder Sae, HookPoint Hook, PromptResolver Resolver, string SaeDir,
    string SaePath, Transcoder? Transcoder, FeatureInterventions? Interventions)
{
    /// <summary>Where the dictionary sits, for the report: its hook, or a transcoder's input and output hooks.</summary>
    public string Site => Transcoder is { } t ? $"{t.InputHook} → {t.OutputHook} (transcoder)" : Hook.ToString();

    /// <summary>The SAE (or transcoder) spliced into the (intervened) model for one prompt.</summary>
    public SaeSplice Splice(int[] tokens, Baseline baseline) => Transcoder is { } transcoder
        ? SaeSplice.CreateTranscoder(Bundle.Transformer, transcoder, SaePath, tokens, baseline, Interventions)
        : SaeSplice.Create(Bundle.Transformer, Sae, Hook, tokens, baseline, Interventions);

    public static AttributionSetup Load(string modelDir, string saeDir, bool centerWritingWeights, string? baseline, string? metric,
        bool prependBos, int position = -1, bool truncate = false, PromptCase? promptCase = null, IReadOnlyList<FeatureIntervention>? interventions = null)
    {
        // An SAE release named on the command line brings the processing its SAEs were trained with.
        (centerWritingWeights, prependBos) = DictionaryFile.Processing(saeDir, centerWritingWeights, prependBos);
        var bundle = ModelFolder.Load(CliDefaults.ExistingFolder(modelDir, "--model"), centerWritingWeights, CliDefaults.Holding);
        if (promptCase is not null) PromptResolver.CheckTokenizer(promptCase, bundle.Tokenizer);
        var dictionary = DictionaryFile.Load(saeDir, bundle.Facts);
        var changes = interventions is { Count: > 0 } ? new FeatureInterventions(interventions, [dictionary.ForInterventions(bundle.Facts)], bundle.Facts) : null;
        var baselineKind = CliParsing.Baseline(baseline);
        var resolver = new PromptResolver(bundle.Transformer, bundle.Tokenizer, CliParsing.Metric(metric), baselineKind,
            baselineKind == BaselineKind.Mean ? CliDefaults.FeatureMeansOf(CliDefaults.SaeFolder(dictionary.Path)) : null, prependBos, position, truncate, changes);
        return new AttributionSetup(bundle, dictionary.Sae, dictionary.Hook, resolver, CliDefaults.SaeFolder(dictionary.Path), dictionary.Path, dictionary.Transcoder, changes);
    }
}
