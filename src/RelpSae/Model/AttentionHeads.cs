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
    /// <summary>Only the query-row blocks that reach <paramref name="fromRow"/> (<see cref="Attention.Forward(ReadOnlySpan{float}, Span{float}, Span{float}, int, int, int, int, int)"/>).</summary>
    public static void Forward(float[] qkv, float[] pattern, float[] z, int batch, int tokens, int heads, int headDim, int fromRow = 0,
        AttentionScores? scores = null)
    {
        int T = tokens, width = heads * headDim;
        Parallel.For(0, batch * heads, Parallelism, bh =>
        {
            int b = bh / heads, h = bh % heads;
            Attention.Forward(qkv.AsSpan(b * T * 3 * width), pattern.AsSpan(bh * T * T, T * T), z.AsSpan(b * T * width), T, h, width, headDim, fromRow, scores);
        });
    }

    public static void Backward(float[] qkv, float[] pattern, float[] dz, float[] dqkv, int batch, int tokens, int heads, int headDim, AttentionShares shares,
        AttentionScores? scores = null)
    {
        int T = tokens, width = heads * headDim;
        Parallel.For(0, batch * heads, Parallelism, bh =>
        {
            int b = bh / heads, h = bh % heads;
            Attention.Backward(qkv.AsSpan(b * T * 3 * width), pattern.AsSpan(bh * T * T, T * T), dz.AsSpan(b * T * width),
                dqkv.AsSpan(b * T * 3 * width), T, h, width, headDim, shares, scores);
        });
    }

    /// <summary><see cref="Attention.BackwardRow"/> of every head, dz zero but at one query row per sequence, <paramref name="queries"/>[b].</summary>
    public static void BackwardRows(float[] qkv, float[] pattern, float[] dz, float[] dqkv, int batch, int tokens, int heads, int headDim, int[] queries,
        AttentionShares shares)
    {
        int T = tokens, width = heads * headDim;
        Parallel.For(0, batch * heads, Parallelism, bh =>
        {
            int b = bh / heads, h = bh % heads;
            Attention.BackwardRow(qkv.AsSpan(b * T * 3 * width), pattern.AsSpan(bh * T * T, T * T), dz.AsSpan(b * T * width),
                dqkv.AsSpan(b * T * 3 * width), T, queries[b], h, width, headDim, shares);
        });
    }

    /// <summary>(Sequence, head) pairs run in parallel on at most <see cref="Threads.Count"/> cores.</summary>
    private static ParallelOptions Parallelism => new() { MaxDegreeOfParallelism = Threads.Count };
}
