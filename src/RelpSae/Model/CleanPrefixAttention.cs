using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// Attention in a pass that reuses a clean prefix (<see cref="CleanPrefix"/>), run on the shapes of the
/// pass that computes every row: each sequence's fused Q | K | V rows are the clean run's before the first
/// computed row and the pass's own from it, and every query row attends, as in the full pass. Attention's
/// products choose their kernel, and sum over keys, by shape; on the full shape the computed rows get the
/// full pass's bits, so a patch that cannot move the residual stream measures exactly 0 from any first row,
/// whatever kernel attention uses. The price: the prefix rows' queries are attended again and dropped, so
/// the pass costs a full pass's attention (SmolLM-135M shapes, 8 sequences reusing 120 of 128 rows: about
/// 1.5–2× the pass that attended from the computed rows only; 504 of 512: 5–8×, still a quarter of the full
/// pass). z and the pattern of the computed rows are copied out. Buffers come from the model's pool;
/// <see cref="Dispose"/> gives them back.
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
    /// <paramref name="cleanQkv"/> [tokens × 3·width] (already rotated, K and V repeated per query head).
    /// </summary>
    public void Forward(float[] cleanQkv, float[] computedQkv, float[] computedPattern, float[] computedZ)
    {
        int T = tokens, C = tokens - first, row = 3 * width;
        for (int b = 0; b < batch; b++)
        {
            cleanQkv.AsSpan(0, first * row).CopyTo(qkv.AsSpan(b * T * row));
            computedQkv.AsSpan(b * C * row, C * row).CopyTo(qkv.AsSpan((b * T + first) * row));
        }
        AttentionHeads.Forward(null, 0, qkv, pattern, z, batch, T, heads, headDim);
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
