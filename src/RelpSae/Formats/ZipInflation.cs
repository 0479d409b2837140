using System.IO.Compression;

namespace RelpSae.Formats;

/// <summary>
/// Weights barely compress (torch.save and Gemma Scope store them uncompressed), so a zip entry whose few
/// compressed bytes claim to inflate a hundredfold is a zip bomb, refused before its claimed size is
/// allocated or inflated.
/// </summary>
internal static class ZipInflation
{
    private const int MaxRatio = 100;
    /// <summary>Small entries (headers, pickles of a few tensors) may compress as they like.</summary>
    private const long FreeBytes = 1 << 20;

    public static void Check(ZipArchiveEntry entry, string what)
    {
        if (entry.Length > FreeBytes && entry.Length / MaxRatio > entry.CompressedLength)
            throw new RelpSaeException($"{what}: {entry.CompressedLength} compressed bytes claim to inflate {entry.Length / Math.Max(1, entry.CompressedLength)}-fold, "
                + $"to {entry.Length}; weights do not compress like that (a zip bomb?)");
    }
}
