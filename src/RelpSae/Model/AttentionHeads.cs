using RelpSae.Lrp;
using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// <see cref="Attention"/> over every (sequence, head) pair of a batch, in parallel, on fused rows
/// [batch·T × 3·width] (Q | K | V, heads contiguous d_head slices; grouped-query K and V already repeated
/// per query head by <see cref="GroupedQuery"/>).
/// </summary>
internal static class AttentionHeads
{
    /// <summary>With a reused prefix, <paramref name="prefix"/> holds its <paramref name="prefixRows"/> rows of fused qkv (the clean run's).</summary>
    public static void Forward(float[]? prefix, int prefixRows, float[] qkv, float[] pattern, float[] z, int batch, int tokens, int heads, int headDim)
    {
        int T = tokens, keys = prefixRows + tokens, width = heads * headDim;
        Parallel.For(0, batch * heads, new ParallelOptions { MaxDegreeOfParallelism = Threads.Count }, bh =>
        {
            int b = bh / heads, h = bh % heads;
            Attention.Forward(prefix, prefixRows, qkv.AsSpan(b * T * 3 * width), pattern.AsSpan(bh * T * keys, T * keys), z.AsSpan(b * T * width),
                T, h, width, headDim);
        });
    }

    public static void Backward(float[] qkv, float[] pattern, float[] dz, float[] dqkv, int batch, int tokens, int heads, int headDim, AttentionShares shares)
    {
        int T = tokens, width = heads * headDim;
        Parallel.For(0, batch * heads, new ParallelOptions { MaxDegreeOfParallelism = Threads.Count }, bh =>
        {
            int b = bh / heads, h = bh % heads;
            Attention.Backward(qkv.AsSpan(b * T * 3 * width), pattern.AsSpan(bh * T * T, T * T), dz.AsSpan(b * T * width),
                dqkv.AsSpan(b * T * 3 * width), T, h, width, headDim, shares);
        });
    }
}
