using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>
/// What a model folder's weights will hold once loaded, from its files' headers alone (no weight is read):
/// every tensor widened to float32, each linear map packed once for the forward product, and once more
/// for the backward one (the embedding is read by rows and only packed as a tied output head; the head's
/// backward reads its rows directly). A backward packs only the blocks above its hook, so a run whose
/// hook is in the middle holds less (11.2 GiB peak against 12.9 estimated on Llama 3.2 1B's shape), and a
/// run holds its activations besides. Checked before loading, so that a model too large stops in one
/// line rather than dying of memory halfway through.
/// </summary>
public sealed record MemoryEstimate(string Dir, long Parameters, long WeightBytes, long ForwardPackedBytes, long BackwardPackedBytes)
{
    /// <summary>The weights and both packed copies: what a model holds after its first backward pass.</summary>
    public long TotalBytes => WeightBytes + ForwardPackedBytes + BackwardPackedBytes;

    /// <summary>Input embeddings (token and learned position) are read by rows, never packed.</summary>
    private static bool IsEmbedding(string name) =>
        name.EndsWith("embed_tokens.weight", StringComparison.Ordinal) || name.EndsWith("embed_in.weight", StringComparison.Ordinal)
        || name.EndsWith("wte.weight", StringComparison.Ordinal) || name.EndsWith("wpe.weight", StringComparison.Ordinal);

    private static bool IsHead(string name) =>
        name.EndsWith("lm_head.weight", StringComparison.Ordinal) || name.EndsWith("embed_out.weight", StringComparison.Ordinal);

    /// <summary>GPT-2 stores its maps as Conv1D, [in, out]; every other map is an nn.Linear, [out, in].</summary>
    private static bool IsConv1D(string name) =>
        name.Contains(".c_attn.", StringComparison.Ordinal) || name.Contains(".c_fc.", StringComparison.Ordinal) || name.Contains(".c_proj.", StringComparison.Ordinal);

    public static MemoryEstimate Of(string dir)
    {
        using var tensors = ShardedCheckpoint.Read(dir, checkFinite: false);
        var headers = tensors.Headers.ToList();
        long Count(TensorHeader h) => h.Shape.Aggregate(1L, (n, d) => checked(n * d));
        // A packed copy of op(B) [k × n] holds n rounded up to whole micro-kernel panels, and 16 floats to align it (PackedMatrix).
        int panel = Numerics.GemmPaths.Tile(Numerics.GemmPath.Best).Cols;
        long Packed(long k, long n) => k * ((n + panel - 1) / panel * panel) + 16;
        (long In, long Out) Sides(TensorHeader h) => IsConv1D(h.Name) ? (h.Shape[0], h.Shape[1]) : (h.Shape[1], h.Shape[0]);
        var maps = headers.Where(h => h.Shape.Length == 2 && !IsEmbedding(h.Name)).ToList();
        // Without a head of its own, the output head is the token embedding [V, d], packed for the logits' product.
        var tied = headers.Any(h => IsHead(h.Name)) ? []
            : headers.Where(h => h.Shape.Length == 2 && IsEmbedding(h.Name) && !h.Name.EndsWith("wpe.weight", StringComparison.Ordinal)).ToList();
        long forward = maps.Sum(h => Packed(Sides(h).In, Sides(h).Out)) + tied.Sum(h => Packed(h.Shape[1], h.Shape[0]));
        long backward = maps.Where(h => !IsHead(h.Name)).Sum(h => Packed(Sides(h).Out, Sides(h).In));
        long all = headers.Sum(Count);
        return new MemoryEstimate(dir, all, 4 * all, 4 * forward, 4 * backward);
    }

    /// <summary>
    /// The estimate, or null when the folder's weights cannot be read: the family's loader then reports what is
    /// wrong in its own terms, after the config's own problems (a missing file, a width of 10⁹).
    /// </summary>
    public static MemoryEstimate? TryOf(string dir)
    {
        try { return Of(dir); }
        catch (RelpSaeException) { return null; }
    }

    /// <summary>Refuses, in one line, a model whose weights may need more than <paramref name="availableBytes"/>.</summary>
    public void CheckFits(long availableBytes)
    {
        if (TotalBytes <= availableBytes) return;
        throw new RelpSaeException($"{Dir}: the weights need up to {Gb(TotalBytes)} ({(Parameters >= 1e9 ? $"{Parameters / 1e9:0.#}B" : $"{Parameters / 1e6:0.#}M")} parameters as float32, "
            + $"{Gb(WeightBytes)}, packed once for the forward and once for a backward through every block), more than the {Gb(availableBytes)} of memory available: "
            + "run it on a machine with more memory");
    }

    private static string Gb(long bytes) => bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):F1} GiB" : $"{bytes / (double)(1L << 20):F0} MiB";
}
