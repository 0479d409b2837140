using System.Text.Json;

namespace RelpSae.Hub;

/// <summary>
/// The files the tool reads from a repository, and nothing else: those it needs, one of each group of
/// alternatives (the first the repository has; a *.index.json brings its shards), and those it uses if present.
/// </summary>
public sealed record RepoFiles(IReadOnlyList<string> Required, IReadOnlyList<string[]> OneOf, IReadOnlyList<string> Optional)
{
    /// <summary>
    /// A checkpoint of any family the tool runs: config, weights (safetensors preferred), and the tokenizer
    /// files of either kind (Hugging Face tokenizer.json or GPT-2's vocab.json + merges.txt; SentencePiece's tokenizer.model).
    /// </summary>
    public static readonly RepoFiles Model = new(
        ["config.json"],
        [["model.safetensors", "model.safetensors.index.json", "pytorch_model.bin", "pytorch_model.bin.index.json"]],
        ["tokenizer.json", "vocab.json", "merges.txt", "tokenizer.model"]);

    /// <summary>
    /// An SAE in <paramref name="folder"/> of its repository: SAELens' layout, with this project's extras (feature dashboards included) if present,
    /// or Llama Scope's (hyperparams.json and checkpoints/final.safetensors); or, when the path names a Gemma Scope
    /// params.npz, a Gemma Scope 2 params.safetensors or a dictionary_learning ae.pt, that one file; a circuit-tracer
    /// transcoder's layer_N.safetensors comes with the set's config.yaml beside it.
    /// </summary>
    public static RepoFiles Sae(string folder)
    {
        if (RelpSae.Sae.SaeFiles.IsCommunityFileName(folder)) return new([folder], [], []);
        if (RelpSae.Sae.TranscoderFiles.IsCircuitTracerFileName(folder))
        {
            int slash = folder.LastIndexOf('/');
            return new([folder, slash < 0 ? RelpSae.Sae.TranscoderFiles.CircuitTracerConfig : $"{folder[..slash]}/{RelpSae.Sae.TranscoderFiles.CircuitTracerConfig}"], [], []);
        }
        string In(string name) => folder.Length == 0 ? name : $"{folder}/{name}";
        return new([],
            [[In("cfg.json"), In("hyperparams.json")], [In("sae_weights.safetensors"), In("checkpoints/final.safetensors")]],
            [In("sparsity.safetensors"), In("feature_means.safetensors"), In("feature_summaries.json"), In(Dashboards.DashboardFile.FileName)]);
    }

    /// <summary>A cross-layer transcoder at the repository's top: circuit-tracer's config.yaml and a W_enc_i / W_dec_i pair per layer.</summary>
    public static RepoFiles CrossLayerTranscoder(int layers) =>
        new([RelpSae.Sae.TranscoderFiles.CircuitTracerConfig, .. Enumerable.Range(0, layers).SelectMany(l => new[] { $"W_enc_{l}.safetensors", $"W_dec_{l}.safetensors" })], [], []);

    public static bool IsIndex(string path) => path.EndsWith(".index.json", StringComparison.Ordinal);

    /// <summary>The shard files a *.index.json names in its weight_map, beside it.</summary>
    public static IReadOnlyList<string> Shards(string indexFile, string indexPath)
    {
        JsonDocument doc;
        try { doc = JsonDocument.Parse(Formats.SideFile.ReadBytes(indexFile)); }
        catch (JsonException e) { throw new RelpSaeException($"{indexFile}: not valid JSON ({e.Message.Split('\n')[0]})"); }
        using var _ = doc;
        if (!doc.RootElement.TryGetProperty("weight_map", out var map) || map.ValueKind != JsonValueKind.Object)
            throw new RelpSaeException($"{indexFile}: no \"weight_map\" object");
        var dir = Path.GetDirectoryName(indexPath)?.Replace('\\', '/');
        // A shard is a file beside the index: a name that could climb out of the snapshot is refused.
        string Shard(JsonProperty p) => p.Value.GetString() is { Length: > 0 } s && !s.Contains('/') && !s.Contains('\\') && s[0] != '.'
            ? s : throw new RelpSaeException($"{indexFile}: {p.Name} names no shard file beside the index");
        return map.EnumerateObject().Select(Shard).Distinct().Select(s => string.IsNullOrEmpty(dir) ? s : $"{dir}/{s}").ToList();
    }

    /// <summary>What a snapshot folder lacks of these files (empty when it is complete).</summary>
    public IReadOnlyList<string> MissingFrom(string snapshot)
    {
        var missing = Required.Where(f => !File.Exists(Path.Combine(snapshot, f))).ToList();
        foreach (var group in OneOf)
        {
            var present = group.FirstOrDefault(f => File.Exists(Path.Combine(snapshot, f)));
            if (present is null) missing.Add(string.Join(" or ", group));
            else if (IsIndex(present))
                missing.AddRange(Shards(Path.Combine(snapshot, present), present).Where(s => !File.Exists(Path.Combine(snapshot, s))));
        }
        return missing;
    }
}
