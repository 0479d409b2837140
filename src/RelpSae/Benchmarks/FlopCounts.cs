using RelpSae.Model;

namespace RelpSae.Benchmarks;

/// <summary>
/// Floating-point work of the benchmarked workloads, counted as the products actually run (2 FLOP per
/// multiply-add), so achieved GFLOP/s can be set against the FMA peak. Element-wise work is left out.
/// </summary>
public static class FlopCounts
{
    /// <summary>The first <paramref name="layers"/> blocks on batch × tokens rows, then <paramref name="logitRows"/> rows of logits.</summary>
    public static double Gpt2Forward(Gpt2Config c, int batch, int tokens, int layers, int logitRows)
    {
        double d = c.DModel, rows = (double)batch * tokens;
        double linear = 2 * rows * (d * 3 * d + d * d + 2 * d * c.DMlp);
        double attention = 2 * 2 * batch * (double)tokens * tokens * d;   // q·kᵀ and pattern·v, the full T×T per head
        return layers * (linear + attention) + 2.0 * logitRows * d * c.VocabSize;
    }

    /// <summary>
    /// The exact gradient of one metric row per sequence from the residual stream before the last
    /// <paramref name="layers"/> blocks: their forward on batch × tokens rows (no logits: the metric reads one
    /// unembedding column), then the backward's products — each block's linear maps transposed and
    /// attention's four T×T products per head (dv, d scores, dq, dk) — except the last block's MLP, which
    /// runs on the metric rows alone.
    /// </summary>
    public static double Gpt2Gradient(Gpt2Config c, int batch, int tokens, int layers)
    {
        double d = c.DModel, rows = (double)batch * tokens, mlp = 2 * d * c.DMlp;
        double attentionBackward = 2 * rows * (3 * d * d + d * d) + 2 * 4 * batch * (double)tokens * tokens * d;
        return Gpt2Forward(c, batch, tokens, layers, 0) + layers * attentionBackward + 2 * ((layers - 1) * rows + batch) * mlp;
    }

    /// <summary>
    /// One training step of a d_in → d_sae SAE on <paramref name="rows"/> rows: encode and decode forward,
    /// then the decoder-weight, feature and encoder-weight gradients — five dense products; with
    /// <paramref name="activePerRow"/> (TopK's k on its sparse path) only the encoder is dense and the four
    /// others touch k latents a row.
    /// </summary>
    public static double SaeTrainStep(int rows, int dIn, int dSae, int activePerRow = 0) =>
        2.0 * rows * dIn * dSae + 4 * 2.0 * rows * dIn * (activePerRow > 0 ? activePerRow : dSae);
}
