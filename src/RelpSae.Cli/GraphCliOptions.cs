using System.CommandLine;
using RelpSae.Graphs;

namespace RelpSae.Cli;

/// <summary>
/// The options `graph` and `evaluate graphs` share — the transcoders, the pruning thresholds, the feature-node limit and
/// the methods measured — with one default and one check each.
/// </summary>
internal static class GraphCliOptions
{
    public const string DefaultMethods = "replacement,gradient,relp";

    public static Option<string?> Transcoders() => new("--saes")
    {
        Description = "Transcoders, one per MLP: a folder of them (circuit-tracer's config.yaml beside layer_N.safetensors, or one SAELens transcoder folder per block) or a comma list; "
            + "or residual-stream SAEs, one at every block's hook_resid_post (e.g. models/default/saes), whose graph's edges pass through the MLPs. [default: the embedded transcoders]",
    };

    public static Option<double> NodeThreshold() => new("--node-threshold") { Description = "Keep the nodes that carry this share of the influence on the logits, in (0, 1].", DefaultValueFactory = _ => 0.8 };

    public static Option<double> EdgeThreshold() => new("--edge-threshold") { Description = "Keep the edges that carry this share of the influence, in (0, 1].", DefaultValueFactory = _ => 0.98 };

    public static Option<int> MaxFeatureNodes() => new("--max-feature-nodes") { Description = "At most this many feature nodes, the most influential (circuit-tracer's default).", DefaultValueFactory = _ => 7500 };

    public static Option<string> Methods(string description) => new("--methods") { Description = description, DefaultValueFactory = _ => DefaultMethods };

    /// <summary>The transcoders given, or the embedded ones.</summary>
    public static string TranscoderSpec(string? given) => given ?? (Directory.Exists(CliDefaults.EmbeddedTranscoders) ? CliDefaults.EmbeddedTranscoders
        : throw new RelpSaeException($"no transcoders: pass --saes DIR (the embedded default {CliDefaults.EmbeddedTranscoders} is missing)"));

    /// <summary>Refuses thresholds outside (0, 1] and a feature-node limit that is not positive.</summary>
    public static void Check(double nodeThreshold, double edgeThreshold, int maxFeatureNodes)
    {
        foreach (var (name, value) in new[] { ("--node-threshold", nodeThreshold), ("--edge-threshold", edgeThreshold) })
            if (!(value > 0 && value <= 1)) throw new RelpSaeException($"{name} must lie in (0, 1], got {value}");
        if (maxFeatureNodes <= 0) throw new RelpSaeException($"--max-feature-nodes must be positive, got {maxFeatureNodes}");
    }

    /// <summary>The methods to measure, <paramref name="graphMethod"/> first (null: the list's first); empty for "none".</summary>
    public static IReadOnlyList<string> MeasuredMethods(string list, string? graphMethod)
    {
        var names = list.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries).Select(m => m.ToLowerInvariant()).ToList();
        if (names is ["none"]) return [];
        if (names.Count == 0) throw new RelpSaeException("--methods is empty: give a comma list of graph methods, or none");
        foreach (var name in names)
            try { GraphMethod.Parse(name); }
            catch (RelpSaeException e) { throw new RelpSaeException($"--methods: {e.Message}", e); }
        graphMethod ??= names[0];
        return [graphMethod, .. names.Where(n => n != graphMethod).Distinct()];
    }
}
