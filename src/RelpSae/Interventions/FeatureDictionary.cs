using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Interventions;

/// <summary>
/// A dictionary whose features an intervention may change: an SAE at its residual hook, or a transcoder, whose features are
/// encoded from its input hook (<see cref="EncodedFrom"/>) and whose decoder writes its MLP's output at <see cref="Hook"/>.
/// </summary>
public sealed record FeatureDictionary(HookPoint Hook, SparseAutoencoder Dictionary, HookPoint? EncodedFrom = null)
{
    /// <summary>A dictionary of a set (<see cref="SaeSet"/>): a transcoder's features encoded from its input hook.</summary>
    public static FeatureDictionary Of(HookedSae sae) => new(sae.Hook, sae.Sae, sae.IsTranscoder ? sae.Input : null);

    /// <summary>A graph's dictionary: a transcoder encoded from its input hook, or a residual SAE (reading and writing one hook) from that hook.</summary>
    public static FeatureDictionary Of(HookedTranscoder t) => new(t.Output, t.Transcoder.Dictionary, t.Input == t.Output ? null : t.Input);

    /// <summary>A transcoder at its hooks in the model of <paramref name="facts"/> (<paramref name="source"/> names it in errors).</summary>
    public static FeatureDictionary Of(Transcoder transcoder, ModelFacts facts, string source)
    {
        var (input, output) = transcoder.Hooks(facts, source);
        return new(output, transcoder.Dictionary, input);
    }
}
