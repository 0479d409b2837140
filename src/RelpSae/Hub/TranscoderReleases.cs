namespace RelpSae.Hub;

/// <summary>
/// circuit-tracer's transcoders by the names it gives them. Its presets for per-layer sets: <c>gemma</c> (Gemma Scope's
/// transcoders for Gemma-2 2B, which its gemma preset's config lists from google/gemma-scope-2b-pt-transcoders, the ids of
/// the gemma-scope-2b-pt-transcoders release) and <c>llama</c> (mntss/transcoder-Llama-3.2-1B: layer_N.safetensors beside
/// its config.yaml), each named preset/layer_N. And the cross-layer transcoders of its README, named by their repository
/// (as circuit-tracer's --transcoder_set takes them), whose whole transcoder lies at the repository's top.
/// circuit-tracer runs every one on a prompt with a BOS token first, on the model's unprocessed weights.
/// </summary>
public static class TranscoderReleases
{
    public static readonly SaeProcessing CircuitTracer = new(CenterWritingWeights: false, PrependBos: true);
    private const int Llama32Layers = 16, Gemma2Layers = 26;

    /// <summary>The per-layer presets, <c>gemma</c> read from Gemma Scope's transcoder release.</summary>
    public static IEnumerable<SaeRelease> Presets(SaeRelease gemmaScopeTranscoders) =>
    [
        new("gemma", gemmaScopeTranscoders.RepoId, gemmaScopeTranscoders.Paths.ToDictionary(p => p.Key.Split('/')[0], p => p.Value), CircuitTracer),
        new("llama", "mntss/transcoder-Llama-3.2-1B",
            Enumerable.Range(0, Llama32Layers).ToDictionary(l => $"layer_{l}", l => $"layer_{l}.safetensors"), CircuitTracer),
    ];

    /// <summary>Cross-layer transcoders by repository: how many layers each has (a W_enc_i and W_dec_i file per layer).</summary>
    public static readonly IReadOnlyDictionary<string, int> CrossLayer = new Dictionary<string, int>(StringComparer.Ordinal)
    {
        ["mntss/clt-gemma-2-2b-426k"] = Gemma2Layers,
        ["mntss/clt-gemma-2-2b-2.5M"] = Gemma2Layers,
        ["mntss/clt-llama-3.2-1b-524k"] = Llama32Layers,
    };
}
