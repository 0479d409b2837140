using RelpSae.Formats;
using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// What a model folder's weights will hold once loaded, from its files' headers alone (no weight is read): every
/// weight matrix packed once, in the width it is held in (<see cref="CheckpointTensors.Holding"/>: a bfloat16 file's
/// stays 16-bit), the forward and the backward reading the same panels (an embedding's rows too); norms and biases
/// as float32. A run holds its activations besides. Checked before loading, so that a model too large stops in one
/// line rather than dying of memory halfway through.
/// </summary>
public sealed record MemoryEstimate(string Dir, long Parameters, long PackedBytes, long OtherBytes, PanelElement? Holding)
{
    /// <summary>Everything the loaded weights hold.</summary>
    public long TotalBytes => PackedBytes + OtherBytes;

    /// <summary>GPT-2 stores its maps as Conv1D, [in, out]; every other map (embeddings included) is an nn.Linear, [out, in].</summary>
    private static bool IsConv1D(string name) =>
        name.Contains(".c_attn.", StringComparison.Ordinal) || name.Contains(".c_fc.", StringComparison.Ordinal) || name.Contains(".c_proj.", StringComparison.Ordinal);

    public static MemoryEstimate Of(string dir, PanelElement? holding = null)
    {
        using var tensors = ShardedCheckpoint.Read(dir, checkFinite: false);
        tensors.Holding = holding;
        var headers = tensors.Headers.ToList();
        long Count(TensorHeader h) => h.Shape.Aggregate(1L, (n, d) => checked(n * d));
        // Panels of op(B) [k × n] hold n rounded up to whole micro-kernel panels, and 64 bytes to align them (PackedMatrix).
        int panel = GemmPaths.Tile(GemmPath.Best).Cols;
        long Packed(long k, long n, DType stored) => k * ((n + panel - 1) / panel * panel) * tensors.ElementFor(stored).Size() + 64;
        var matrices = headers.Where(h => h.Shape.Length == 2).ToList();
        long packed = matrices.Sum(h => IsConv1D(h.Name) ? Packed(h.Shape[0], h.Shape[1], h.DType) : Packed(h.Shape[1], h.Shape[0], h.DType));
        // Norms and biases; buffers (GPT-2's [1, 1, P, P] causal masks, stored as float in some files) are never loaded.
        var vectors = headers.Where(h => h.Shape.Length == 1 && h.DType.IsFloat()).ToList();
        return new MemoryEstimate(dir, matrices.Sum(Count) + vectors.Sum(Count), packed, 4 * vectors.Sum(Count), holding);
    }

    /// <summary>
    /// The estimate, or null when the folder's weights cannot be read: the family's loader then reports what is
    /// wrong in its own terms, after the config's own problems (a missing file, a width of 10⁹).
    /// </summary>
    public static MemoryEstimate? TryOf(string dir, PanelElement? holding = null)
    {
        try { return Of(dir, holding); }
        catch (RelpSaeException) { return null; }
    }

    /// <summary>Refuses, in one line, a model whose weights may need more than <paramref name="availableBytes"/>, saying what would fit.</summary>
    public void CheckFits(long availableBytes)
    {
        if (TotalBytes <= availableBytes) return;
        string parameters = Parameters >= 1e9 ? $"{Parameters / 1e9:0.#}B" : $"{Parameters / 1e6:0.#}M";
        string held = Holding is { } h ? $"held as {Name(h)}" : "held as stored";
        var bf16 = Holding == PanelElement.BFloat16 ? null : Of(Dir, PanelElement.BFloat16);
        throw new SettingException(name => $"{Dir}: the weights need {Gb(TotalBytes)} ({parameters} parameters {held}), more than the {Gb(availableBytes)} of memory available: "
            + (bf16 is not null && bf16.TotalBytes <= availableBytes
                ? $"hold them in bfloat16 ({name(Setting.WeightsDType)} bf16, {Gb(bf16.TotalBytes)}; rounds float32 weights) or run it on a machine with more memory"
                : "run it on a machine with more memory"));
    }

    /// <summary>How a width is called in messages and outputs.</summary>
    public static string Name(PanelElement element) => element switch
    {
        PanelElement.BFloat16 => "bfloat16",
        PanelElement.Float16 => "float16",
        _ => "float32",
    };

    internal static string Gb(long bytes) => bytes >= 1L << 30 ? $"{bytes / (double)(1L << 30):F1} GiB" : $"{bytes / (double)(1L << 20):F0} MiB";
}
