namespace RelpSae.Model;

/// <summary>
/// Grouped-query attention's key/value sharing: n_heads / n_kv_heads query heads read one K and V head.
/// Forward repeats each K, V head into the fused rows (HF's repeat_kv); backward sums the repeated
/// heads' gradients back into their shared head.
/// </summary>
internal static class GroupedQuery
{
    /// <summary>K and V rows [n × kvHeads·dh] into the K and V parts of fused rows [n × 3·heads·dh].</summary>
    public static void Repeat(ReadOnlySpan<float> k, ReadOnlySpan<float> v, Span<float> qkv, int rows, int heads, int kvHeads, int headDim)
    {
        int width = heads * headDim, kvWidth = kvHeads * headDim, group = heads / kvHeads;
        for (int r = 0; r < rows; r++)
            for (int h = 0; h < heads; h++)
            {
                int from = r * kvWidth + h / group * headDim, to = r * 3 * width + h * headDim;
                k.Slice(from, headDim).CopyTo(qkv.Slice(to + width, headDim));
                v.Slice(from, headDim).CopyTo(qkv.Slice(to + 2 * width, headDim));
            }
    }

    /// <summary>The transpose of <see cref="Repeat"/>: dK, dV [n × kvHeads·dh] = the sums of each group's heads in dqkv.</summary>
    public static void Reduce(ReadOnlySpan<float> dqkv, Span<float> dk, Span<float> dv, int rows, int heads, int kvHeads, int headDim)
    {
        int width = heads * headDim, kvWidth = kvHeads * headDim, group = heads / kvHeads;
        dk[..(rows * kvWidth)].Clear();
        dv[..(rows * kvWidth)].Clear();
        for (int r = 0; r < rows; r++)
            for (int h = 0; h < heads; h++)
            {
                int to = r * kvWidth + h / group * headDim, from = r * 3 * width + h * headDim;
                var dkh = dk.Slice(to, headDim);
                var dvh = dv.Slice(to, headDim);
                System.Numerics.Tensors.TensorPrimitives.Add(dkh, dqkv.Slice(from + width, headDim), dkh);
                System.Numerics.Tensors.TensorPrimitives.Add(dvh, dqkv.Slice(from + 2 * width, headDim), dvh);
            }
    }
}
