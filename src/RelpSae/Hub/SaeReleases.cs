using System.Text.Json;

namespace RelpSae.Hub;

/// <summary>One SAELens release: the repository, each SAE id's folder in it, and the processing its SAEs expect.</summary>
public sealed record SaeRelease(string Name, string RepoId, IReadOnlyDictionary<string, string> Paths, SaeProcessing Processing);

/// <summary>
/// Releases of SAELens' release table (sae_lens/pretrained_saes.yaml). The public GPT-2 small releases whose SAEs
/// are stored in SAELens' own folder layout (cfg.json + sae_weights.safetensors), so they load without conversion:
/// SAELens loads them on TransformerLens' <c>gpt2-small</c>, whose from_pretrained centres the writing weights
/// by default, and their cfg.json says prepend_bos: true. Releases stored as other formats (gpt2-small-hook-z-kk,
/// gpt2-small-mlp-tm, gpt2-small-resid-post-v5-32k's .pt files) are left out. And Gemma Scope's residual-stream
/// releases for Gemma-2 2B and 9B and its transcoders for Gemma-2 2B (sae-releases.json): a params.npz per SAE, read with a
/// BOS token first.
/// </summary>
public static class SaeReleases
{
    private static readonly SaeProcessing TransformerLensGpt2 = new(CenterWritingWeights: true, PrependBos: true);
    private static readonly int[] Gpt2Layers = Enumerable.Range(0, 12).ToArray();

    private static readonly IReadOnlyList<SaeRelease> SaeLens =
    [
        new("gpt2-small-res-jb", "jbloom/GPT2-Small-SAEs-Reformatted",
            ById(Gpt2Layers.Select(l => $"blocks.{l}.hook_resid_pre").Append("blocks.11.hook_resid_post")), TransformerLensGpt2),
        new("gpt2-small-res-jb-feature-splitting", "jbloom/GPT2-Small-Feature-Splitting-Experiment-Layer-8",
            ById(new[] { 768, 1536, 3072, 6144, 12288, 24576, 49152, 98304 }.Select(w => $"blocks.8.hook_resid_pre_{w}")), TransformerLensGpt2),
        OpenAiV5("gpt2-small-resid-post-v5-128k", "resid-post", "hook_resid_post", "128k"),
        OpenAiV5("gpt2-small-resid-mid-v5-32k", "resid-mid", "hook_resid_mid", "32k"),
        OpenAiV5("gpt2-small-resid-mid-v5-128k", "resid-mid", "hook_resid_mid", "128k"),
        OpenAiV5("gpt2-small-mlp-out-v5-32k", "mlp-out", "hook_mlp_out", "32k"),
        OpenAiV5("gpt2-small-mlp-out-v5-128k", "mlp-out", "hook_mlp_out", "128k"),
        OpenAiV5("gpt2-small-attn-out-v5-32k", "attn-out", "hook_attn_out", "32k"),
        OpenAiV5("gpt2-small-attn-out-v5-128k", "attn-out", "hook_attn_out", "128k"),
        .. Converted(),
    ];

    /// <summary>Every release: SAELens' and circuit-tracer's transcoder presets (<see cref="TranscoderReleases"/>).</summary>
    public static readonly IReadOnlyList<SaeRelease> All = [.. SaeLens, .. TranscoderReleases.Presets(SaeLens.Single(r => r.Name == "gemma-scope-2b-pt-transcoders"))];

    public static SaeRelease? Find(string name) => All.FirstOrDefault(r => r.Name == name);

    /// <summary>OpenAI's v5 SAEs as reformatted by SAELens: one folder per layer, v5_{width}_layer_{L}.</summary>
    private static SaeRelease OpenAiV5(string name, string site, string hook, string width) =>
        new(name, $"jbloom/GPT2-Small-OAI-v5-{width}-{site}-SAEs",
            Gpt2Layers.ToDictionary(l => $"blocks.{l}.{hook}", l => $"v5_{width}_layer_{l}"), TransformerLensGpt2);

    /// <summary>
    /// The releases of sae-releases.json, each SAE id mapped to what its converter reads: Gemma Scope's params.npz and
    /// Gemma Scope 2's params.safetensors (the one file fetched), or Llama Scope's folder.
    /// </summary>
    private static IEnumerable<SaeRelease> Converted()
    {
        using var table = typeof(SaeReleases).Assembly.GetManifestResourceStream("sae-releases.json")!;
        using var doc = JsonDocument.Parse(table);
        foreach (var release in doc.RootElement.EnumerateObject())
        {
            string converter = release.Value.GetProperty("conversion_func").GetString()!;
            string file = converter switch
            {
                "gemma_2" or "gemma_2_transcoder" => "/params.npz",
                "gemma_3" => "/" + RelpSae.Sae.CommunitySaeFiles.GemmaScope2File,
                "llama_scope" => "",
                _ => throw new InvalidOperationException($"sae-releases.json: {release.Name} has an unknown conversion_func {converter}"),
            };
            yield return new(release.Name, release.Value.GetProperty("repo_id").GetString()!,
                release.Value.GetProperty("saes").EnumerateObject().ToDictionary(s => s.Name, s => s.Value.GetString() + file),
                new SaeProcessing(CenterWritingWeights: false, PrependBos: true));
        }
    }

    private static Dictionary<string, string> ById(IEnumerable<string> ids) => ids.ToDictionary(id => id, id => id);
}
