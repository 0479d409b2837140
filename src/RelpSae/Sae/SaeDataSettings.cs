using System.Text.Json.Nodes;
using RelpSae.Text;

namespace RelpSae.Sae;

/// <summary>
/// Which text an SAE's activations came from and how it was cut into contexts, recorded in cfg.json (SAELens'
/// context_size and prepend_bos, the rest under metadata["relp_sae_data"]) so that eval-sae reads the data the
/// same way the training did.
/// </summary>
public sealed record SaeDataSettings(string DataPath, string TextField, PackingOptions Packing, bool SkipBos)
{
    public const string MetadataKey = "relp_sae_data";

    /// <summary>cfg.json's provenance for an SAE trained at <paramref name="hook"/> of <paramref name="modelName"/>;
    /// <paramref name="extra"/> adds keys of the caller's (the command line, say).</summary>
    public SaeProvenance Provenance(string hook, string modelName, JsonObject? extra = null)
    {
        var metadata = (JsonObject?)extra?.DeepClone() ?? [];
        metadata[MetadataKey] = new JsonObject
        {
            ["text_field"] = TextField,
            ["bos_token_id"] = Packing.BosId,
            ["sequence_separator_token"] = Packing.SeparatorId,
            ["exclude_bos_activations"] = SkipBos,
        };
        return new SaeProvenance(hook, modelName, Packing.ContextLength, Packing.PrependBos, DataPath, metadata);
    }

    /// <summary>
    /// The settings an SAE was trained with, read back from its config, for <paramref name="dataPath"/>.
    /// What the config does not say falls back to: context <paramref name="defaultContext"/>, BOS prepended (and
    /// its position left out of the statistics), &lt;|endoftext|&gt; between documents.
    /// </summary>
    public static SaeDataSettings FromConfig(SaeConfig config, string dataPath, int defaultContext, int endOfTextId)
    {
        var recorded = config.Extra[MetadataKey] as JsonObject;
        bool prependBos = config.PrependBos ?? true;
        var packing = new PackingOptions
        {
            ContextLength = config.ContextSize ?? defaultContext,
            PrependBos = prependBos,
            BosId = recorded?["bos_token_id"]?.GetValue<int>() ?? endOfTextId,
            SeparatorId = recorded is null ? endOfTextId : recorded["sequence_separator_token"]?.GetValue<int>(),
        };
        return new SaeDataSettings(dataPath, recorded?["text_field"]?.GetValue<string>() ?? "text", packing,
            recorded?["exclude_bos_activations"]?.GetValue<bool>() ?? prependBos);
    }
}
