using System.Text.Json;
using System.Text.Json.Nodes;
using RelpSae.Formats;

namespace RelpSae.Sae;

/// <summary>
/// The trainer's resumable state as one safetensors file: the float arrays (weights, Adam moments) as
/// tensors, everything else (options, step, RNG, counters, source position) as a JSON string under the
/// <c>relp_sae_trainer</c> metadata key. The writer renames a finished temporary file over the target, so a
/// kill mid-write leaves the previous checkpoint intact.
/// </summary>
internal static class TrainerCheckpoint
{
    private const string MetadataKey = "relp_sae_trainer";

    public static void Write(string path, JsonObject state, IReadOnlyList<(string Name, float[] Data)> arrays) =>
        SafetensorsWriter.Write(path, arrays.Select(a => new FloatTensor(a.Name, [a.Data.Length], a.Data)),
            new Dictionary<string, string> { [MetadataKey] = state.ToJsonString() });

    public static (JsonObject State, Dictionary<string, float[]> Arrays) Read(string path)
    {
        if (!File.Exists(path)) throw new RelpSaeException($"{path}: checkpoint not found");
        using var file = SafetensorsFile.Open(path);
        if (!file.Metadata.TryGetValue(MetadataKey, out string? json))
            throw new RelpSaeException($"{path}: not a relp-sae training checkpoint (no '{MetadataKey}' metadata)");
        JsonObject state;
        try
        {
            state = JsonNode.Parse(json) as JsonObject ?? throw new RelpSaeException($"{path}: corrupt trainer state");
        }
        catch (JsonException e)
        {
            throw new RelpSaeException($"{path}: corrupt trainer state ({e.Message})", e);
        }
        // Diverged weights are still state: resume exactly what was saved, NaN included.
        var arrays = file.Entries.ToDictionary(e => e.Name, e => file.ReadFloat(e.Name, checkFinite: false).Data);
        return (state, arrays);
    }
}
