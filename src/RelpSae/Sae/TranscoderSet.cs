using RelpSae.Model;

namespace RelpSae.Sae;

/// <summary>A transcoder, the file or folder it came from, and the MLP it stands in for (its input and output hooks in the model).</summary>
public sealed record HookedTranscoder(string Source, Transcoder Transcoder, HookPoint Input, HookPoint Output)
{
    public int Layer => Output.Layer;
}

/// <summary>
/// Transcoders for several MLPs of one model, as attribution graphs splice them: a comma list of transcoder files or
/// folders, or one folder holding a set — circuit-tracer's (config.yaml beside layer_N.safetensors) or one transcoder per
/// subfolder (SAELens' layout, as models/default/transcoders). Ordered by layer; at most one per MLP.
/// </summary>
public static class TranscoderSet
{
    public static IReadOnlyList<HookedTranscoder> Load(string spec, ModelFacts facts)
    {
        var paths = spec.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries);
        if (paths.Length == 0) throw new RelpSaeException("no transcoder given");
        if (paths.Length == 1 && Directory.Exists(paths[0]) && !TranscoderFiles.IsTranscoder(paths[0])) paths = Members(paths[0]);
        var set = paths.Select(p =>
        {
            if (!TranscoderFiles.IsTranscoder(p)) throw new RelpSaeException($"{p}: not a transcoder (a SAELens transcoder folder, a circuit-tracer layer_N.safetensors beside its {TranscoderFiles.CircuitTracerConfig}, or a Gemma Scope transcoders params.npz)");
            var transcoder = TranscoderFiles.Load(p);
            var (input, output) = transcoder.Hooks(facts, p);
            return new HookedTranscoder(p, transcoder, input, output);
        }).ToList();
        foreach (var layer in set.GroupBy(t => t.Layer).Where(g => g.Count() > 1))
            throw new RelpSaeException($"two transcoders stand in for block {layer.Key}'s MLP: {string.Join(" and ", layer.Select(t => t.Source))}; give at most one per MLP");
        return set.OrderBy(t => t.Layer).ToList();
    }

    /// <summary>The transcoders a set folder holds: circuit-tracer's layer files beside its config.yaml, else its transcoder subfolders.</summary>
    internal static string[] Members(string folder)
    {
        string[] found = File.Exists(Path.Combine(folder, TranscoderFiles.CircuitTracerConfig))
            ? Directory.GetFiles(folder, "*.safetensors").Where(TranscoderFiles.IsCircuitTracerFileName).ToArray()
            : Directory.GetDirectories(folder).Where(TranscoderFiles.IsTranscoder).ToArray();
        if (found.Length == 0)
            throw new RelpSaeException($"{folder}: holds no transcoders (circuit-tracer's layer_N.safetensors beside a {TranscoderFiles.CircuitTracerConfig}, or subfolders each holding a transcoder's cfg.json)");
        return found.Order(StringComparer.Ordinal).ToArray();
    }
}
