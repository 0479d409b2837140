namespace RelpSae.Model;

/// <summary>
/// Some rows of a [rows × width] array packed together and back: the last block's work on the metric rows
/// alone (forward and backward) multiplies only those rows, and a packed product's row does not depend
/// on which other rows it is multiplied with.
/// </summary>
internal static class SelectedRows
{
    /// <summary>dst row i = src row rows[i].</summary>
    public static void Gather(float[] src, int[] rows, int width, float[] dst)
    {
        for (int i = 0; i < rows.Length; i++) src.AsSpan(rows[i] * width, width).CopyTo(dst.AsSpan(i * width, width));
    }

    /// <summary>dst row rows[i] = src row i; other rows of dst untouched.</summary>
    public static void Scatter(float[] src, int[] rows, int width, float[] dst)
    {
        for (int i = 0; i < rows.Length; i++) src.AsSpan(i * width, width).CopyTo(dst.AsSpan(rows[i] * width, width));
    }
}
