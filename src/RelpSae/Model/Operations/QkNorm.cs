using RelpSae.Lrp;

namespace RelpSae.Model;

/// <summary>
/// QK-norm (Qwen3's and Gemma 3's q_norm and k_norm): an <see cref="RmsNorm"/> of each head's d_head query values and
/// each key head's, one scale γ [d_head] for all query heads and one for all key heads (taken as given: Gemma's 1 + w is
/// added by its loader), applied between the projections and the rotation. Its backward is the block's norm backward head by head, so a rule that freezes the norms' 1/rms
/// (the LN-rule) freezes these too.
/// </summary>
internal sealed class QkNorm(float[] qGamma, float[] kGamma, int heads, int kvHeads, float eps)
{
    private readonly int headDim = qGamma.Length;

    /// <summary>What the backward reads: each head's x̂ and 1/rms, for the queries [rows × heads] and the keys [rows × kvHeads].</summary>
    public sealed record Activations(float[] QHat, float[] QRstd, float[] KHat, float[] KRstd)
    {
        /// <summary>Buffers for <paramref name="rows"/> rows, from a block's <paramref name="rent"/>.</summary>
        public static Activations Rent(Func<long, float[]> rent, long rows, int heads, int kvHeads, int headDim) =>
            new(rent(rows * heads * headDim), rent(rows * heads), rent(rows * kvHeads * headDim), rent(rows * kvHeads));
    }

    /// <summary>The fused, rotated Q | K | V rows from the normed rows, with this norm between <paramref name="projections"/>' two steps.</summary>
    public void Forward(RotaryQkv projections, float[] normed, int rows, int tokens, int firstPosition, float[] qkv, float[] kRows, float[] vRows, Activations kept)
    {
        projections.Project(normed, rows, qkv, kRows, vRows);
        Forward(qkv, kRows, rows, kept);
        projections.Rotate(rows, tokens, firstPosition, qkv, kRows, vRows);
    }

    /// <summary>The transpose of the forward above under <paramref name="norm"/>: dnormed from the fused rows' <paramref name="dqkv"/> (dk, dv scratch).</summary>
    public void Backward(RotaryQkv projections, float[] dqkv, float[] dk, float[] dv, int rows, int tokens, NormBackward norm, Activations kept, float[] dnormed)
    {
        projections.Unrotate(dqkv, dk, dv, rows, tokens);
        Backward(dqkv, dk, rows, norm, kept);
        projections.Transpose(dqkv, dk, dv, rows, dnormed);
    }

    /// <summary>Normalises in place the fused rows' Q part [rows × 3·heads·d_head] and the K rows [rows × kvHeads·d_head].</summary>
    private void Forward(float[] qkv, float[] kRows, int rows, Activations kept)
    {
        int width = heads * headDim, kvWidth = kvHeads * headDim;
        RowSet.All(rows).For(3 * width, (r0, _, k) =>
        {
            for (int r = r0; r < r0 + k; r++)
            {
                var q = qkv.AsSpan(r * 3 * width, width);
                RmsNorm.Forward(q, kept.QHat.AsSpan(r * width, width), kept.QRstd.AsSpan(r * heads, heads), q, qGamma, heads, eps);
            }
            var keys = kRows.AsSpan(r0 * kvWidth, k * kvWidth);
            RmsNorm.Forward(keys, kept.KHat.AsSpan(r0 * kvWidth, k * kvWidth), kept.KRstd.AsSpan(r0 * kvHeads, k * kvHeads), keys, kGamma, k * kvHeads, eps);
        });
    }

    /// <summary>The transpose of <see cref="Forward"/> under <paramref name="norm"/> (exact or a rule): dQ in the fused rows and dK, in place.</summary>
    private void Backward(float[] dqkv, float[] dk, int rows, NormBackward norm, Activations kept)
    {
        int width = heads * headDim, kvWidth = kvHeads * headDim;
        RowSet.All(rows).For(3 * width, (r0, _, k) =>
        {
            Span<float> g = stackalloc float[headDim], scratch = stackalloc float[headDim];
            for (int r = r0; r < r0 + k; r++)
            {
                for (int h = 0; h < heads; h++)
                    Head(norm, dqkv.AsSpan(r * 3 * width + h * headDim, headDim), kept.QHat.AsSpan((r * heads + h) * headDim, headDim), kept.QRstd[r * heads + h], qGamma, g, scratch);
                for (int h = 0; h < kvHeads; h++)
                    Head(norm, dk.AsSpan((r * kvHeads + h) * headDim, headDim), kept.KHat.AsSpan((r * kvHeads + h) * headDim, headDim), kept.KRstd[r * kvHeads + h], kGamma, g, scratch);
            }
        });
    }

    /// <summary>One head's gradient, replaced in place (the norm backward adds into its output, so it reads a copy).</summary>
    private static void Head(NormBackward norm, Span<float> d, ReadOnlySpan<float> xhat, float rstd, float[] gamma, Span<float> g, Span<float> scratch)
    {
        d.CopyTo(g);
        d.Clear();
        norm(g, xhat, rstd, gamma, d, scratch);
    }
}
