using RelpSae.Interventions;
using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Cli;

/// <summary>
/// The one dictionary --sae names: an SAE at its residual hook, or a transcoder's file (<see cref="TranscoderFiles"/>), whose
/// dictionary sits at its output hook.
/// </summary>
internal sealed record DictionaryFile(string Path, SparseAutoencoder Sae, HookPoint Hook, Transcoder? Transcoder)
{
    public static DictionaryFile Load(string path, ModelFacts facts)
    {
        path = CliDefaults.ExistingSae(path);
        var transcoder = TranscoderFiles.IsTranscoder(path) ? TranscoderFiles.Load(path) : null;
        var sae = transcoder?.Dictionary ?? SaeFiles.Load(path);
        var hook = transcoder is null ? SaeFiles.Hook(sae, facts, path) : transcoder.Hooks(facts, path).Output;
        return new DictionaryFile(path, sae, hook, transcoder);
    }

    /// <summary>The dictionary as feature interventions see it.</summary>
    public FeatureDictionary ForInterventions(ModelFacts facts) => Transcoder is { } t ? FeatureDictionary.Of(t, facts, Path) : new(Hook, Sae);

    /// <summary>
    /// The model's processing with what an SAE release named on the command line was trained with (centred writing weights,
    /// a start token), noted on stderr when that adds to what was asked.
    /// </summary>
    public static (bool CenterWritingWeights, bool PrependBos) Processing(string sae, bool centerWritingWeights, bool prependBos)
    {
        var processing = Hub.LocalOrHub.ProcessingOf(sae);
        if (processing.CenterWritingWeights && !centerWritingWeights || processing.PrependBos && !prependBos)
            Console.Error.WriteLine($"note: {sae} expects {processing}: applied");
        return (centerWritingWeights || processing.CenterWritingWeights, prependBos || processing.PrependBos);
    }
}
