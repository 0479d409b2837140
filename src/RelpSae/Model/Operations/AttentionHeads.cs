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
        WorkerTeam.For(batch * heads, bh =>
        {
            int b = bh / heads, h = bh % heads;
            Attention.Forward(qkv.AsSpan(b * T * 3 * width), pattern.AsSpan(bh * T * T, T * T), z.AsSpan(b * T * width), T, h, width, headDim, fromRow, scores);
        });
    }

    public static void Backward(float[] qkv, float[] pattern, float[] dz, float[] dqkv, int batch, int tokens, int heads, int headDim, AttentionShares shares,
        AttentionScores? scores = null)
    {
        int T = tokens, width = heads * headDim;
        WorkerTeam.For(batch * heads, bh =>
        {
            int b = bh / heads, h = bh % heads;
            Attention.Backward(qkv.AsSpan(b * T * 3 * width), pattern.AsSpan(bh * T * T, T * T), dz.AsSpan(b * T * width),
                dqkv.AsSpan(b * T * 3 * width), T, h, width, headDim, shares, scores);
        });
    }

    /// <summary>
    /// <see cref="Backward"/> from dz that is zero but on <paramref name="rows"/>: every row, or one query row per sequence
    /// (the last block's metric rows), where each head's backward is that row's alone (<see cref="Attention.BackwardRow"/>).
    /// </summary>
    public static void Backward(RowSet rows, float[] qkv, float[] pattern, float[] dz, float[] dqkv, int batch, int tokens, int heads, int headDim,
        AttentionShares shares, AttentionScores? scores = null)
    {
        if (rows.IsAll)
        {
            Backward(qkv, pattern, dz, dqkv, batch, tokens, heads, headDim, shares, scores);
            return;
        }
        if (rows.Count != batch) throw new ArgumentException($"{rows.Count} query rows for {batch} sequences");
        int T = tokens, width = heads * headDim;
        WorkerTeam.For(batch * heads, bh =>
        {
            int b = bh / heads, h = bh % heads;
            Attention.BackwardRow(qkv.AsSpan(b * T * 3 * width), pattern.AsSpan(bh * T * T, T * T), dz.AsSpan(b * T * width),
                dqkv.AsSpan(b * T * 3 * width), T, rows[b] - b * T, h, width, headDim, shares, scores);
        });
    }
}
