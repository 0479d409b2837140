using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// Attention in a pass that reuses a clean prefix (<see cref="CleanPrefix"/>), on the shapes of the pass that
/// computes every row: each sequence's fused Q | K | V rows are the clean run's before the first computed row
/// and the pass's own from it, and the query-row blocks that reach the first computed row run as in the full
/// pass (<see cref="Attention.RowBlocks"/>). Attention's products choose their kernel, and sum over keys, by
/// shape; on the full pass's shapes the computed rows get its bits, so a patch that cannot move the residual
/// stream measures exactly 0 from any first row, in every family. The price: the prefix rows of the block that
/// holds the first computed row (at most 127) are attended again and dropped. z and the pattern of the computed
/// rows are copied out. Buffers come from the model's pool; <see cref="Dispose"/> gives them back.
/// </summary>
internal sealed class CleanPrefixAttention(FloatPool pool, int batch, int tokens, int first, int heads, int headDim) : IDisposable
{
    private readonly int width = heads * headDim;
    private readonly float[] qkv = pool.Rent(batch * tokens * 3 * heads * headDim);
    private readonly float[] pattern = pool.Rent(batch * heads * tokens * tokens);
    private readonly float[] z = pool.Rent(batch * tokens * heads * headDim);

    /// <summary>
    /// z [batch × computed × width] and the pattern [batch·heads × computed × tokens] of the computed rows,
    /// from their fused rows <paramref name="computedQkv"/> [batch × computed × 3·width] and the clean run's
    /// <paramref name="cleanQkv"/> [tokens × 3·width] (Llama family: already rotated, K and V repeated per query head), the block's scores formed as <paramref name="scores"/> says.
    /// </summary>
    public void Forward(float[] cleanQkv, float[] computedQkv, float[] computedPattern, float[] computedZ, AttentionScores scores)
    {
        int T = tokens, C = tokens - first, row = 3 * width;
        for (int b = 0; b < batch; b++)
        {
            cleanQkv.AsSpan(0, first * row).CopyTo(qkv.AsSpan(b * T * row));
            computedQkv.AsSpan(b * C * row, C * row).CopyTo(qkv.AsSpan((b * T + first) * row));
        }
        AttentionHeads.Forward(qkv, pattern, z, batch, T, heads, headDim, fromRow: first, scores);
        for (int bh = 0; bh < batch * heads; bh++)
            pattern.AsSpan((bh * T + first) * T, C * T).CopyTo(computedPattern.AsSpan(bh * C * T));
        for (int b = 0; b < batch; b++)
            z.AsSpan((b * T + first) * width, C * width).CopyTo(computedZ.AsSpan(b * C * width));
    }

    public void Dispose()
    {
        pool.Return(qkv);
        pool.Return(pattern);
        pool.Return(z);
    }
}
