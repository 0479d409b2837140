namespace RelpSae.Model;

/// <summary>
/// The query, key and value rows of a rotary, grouped-query block (the Llama family, Gemma-2, Qwen3): a·W_qᵀ,
/// a·W_kᵀ, a·W_vᵀ (+ biases), q and k rotated by position, K and V repeated per query head into the fused
/// rows attention reads; and the transpose of all of it, from the fused rows' gradient back to a. Each half is
/// two steps, so that a family can act on q and k between the projections and the rotation (Qwen3's QK-norm).
/// </summary>
internal sealed class RotaryQkv(Linear q, Linear k, Linear v, Rope rope, int heads, int kvHeads, int headDim)
{
    private readonly int width = heads * headDim, kvWidth = kvHeads * headDim;

    /// <summary>Fused rows [rows × 3·width] from the normed rows; <paramref name="kRows"/>, <paramref name="vRows"/> [rows × kvWidth] hold K and V unrepeated.</summary>
    public void Forward(float[] normed, int rows, int tokens, int firstPosition, float[] qkv, float[] kRows, float[] vRows)
    {
        Project(normed, rows, qkv, kRows, vRows);
        Rotate(rows, tokens, firstPosition, qkv, kRows, vRows);
    }

    /// <summary>Q into the fused rows' Q part, K and V into their own rows, as the projections leave them.</summary>
    public void Project(float[] normed, int rows, float[] qkv, float[] kRows, float[] vRows)
    {
        q.Apply(normed, rows, qkv, 3 * width);
        k.Apply(normed, rows, kRows, kvWidth);
        v.Apply(normed, rows, vRows, kvWidth);
    }

    /// <summary>Q and K rotated by position (rows of a sequence from <paramref name="firstPosition"/>), K and V repeated into the fused rows.</summary>
    public void Rotate(int rows, int tokens, int firstPosition, float[] qkv, float[] kRows, float[] vRows)
    {
        rope.Apply(qkv, 3 * width, rows, tokens, heads, headDim, firstPosition: firstPosition);
        rope.Apply(kRows, kvWidth, rows, tokens, kvHeads, headDim, firstPosition: firstPosition);
        GroupedQuery.Repeat(kRows, vRows, qkv, rows, heads, kvHeads, headDim);
    }

    /// <summary>dnormed = the gradient at the normed rows from the fused rows' <paramref name="dqkv"/> (rotated back in place; dk, dv are scratch).</summary>
    public void Backward(float[] dqkv, float[] dk, float[] dv, int rows, int tokens, float[] dnormed)
    {
        Unrotate(dqkv, dk, dv, rows, tokens);
        Transpose(dqkv, dk, dv, rows, dnormed);
    }

    /// <summary>The transpose of <see cref="Rotate"/>: dK, dV summed over their query heads, dQ (in place) and dK rotated back.</summary>
    public void Unrotate(float[] dqkv, float[] dk, float[] dv, int rows, int tokens)
    {
        GroupedQuery.Reduce(dqkv, dk, dv, rows, heads, kvHeads, headDim);
        rope.Apply(dqkv, 3 * width, rows, tokens, heads, headDim, inverse: true);
        rope.Apply(dk, kvWidth, rows, tokens, kvHeads, headDim, inverse: true);
    }

    /// <summary>The transpose of <see cref="Project"/>: dnormed from dQ (the fused rows' Q part), dK and dV.</summary>
    public void Transpose(float[] dqkv, float[] dk, float[] dv, int rows, float[] dnormed)
    {
        q.Transpose(dqkv, 3 * width, rows, dnormed, accumulate: false);
        k.Transpose(dk, kvWidth, rows, dnormed, accumulate: true);
        v.Transpose(dv, kvWidth, rows, dnormed, accumulate: true);
    }
}
