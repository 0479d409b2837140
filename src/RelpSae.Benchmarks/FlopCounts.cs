using RelpSae.Model;

namespace RelpSae.Benchmarks;

/// <summary>
/// Floating-point work of the benchmarked workloads, counted as the products actually run (2 FLOP per
/// multiply-add), so achieved GFLOP/s can be set against the FMA peak. Element-wise work is left out.
/// </summary>
public static class FlopCounts
{
    /// <summary>The first <paramref name="layers"/> blocks on batch × tokens rows, then <paramref name="logitRows"/> rows of logits.</summary>
    public static double Gpt2Forward(Gpt2Config c, int batch, int tokens, int layers, int logitRows) =>
        layers * (BlockLinear(c, (double)batch * tokens) + ForwardAttention(c, batch, tokens)) + 2.0 * logitRows * c.DModel * c.VocabSize;

    /// <summary>
    /// The anchor's backward workload: a forward keeping its activations, without logits, from token ids
    /// through the blocks before blocks.<paramref name="toLayer"/>, then <see cref="Gpt2Gradient"/> of the rest.
    /// </summary>
    public static double Gpt2ForwardBackward(Gpt2Config c, int batch, int tokens, int toLayer) =>
        Gpt2Forward(c, batch, tokens, toLayer, 0) + Gpt2Gradient(c, batch, tokens, c.NLayers - toLayer);

    /// <summary>A block's four weight products on <paramref name="rows"/> rows.</summary>
    private static double BlockLinear(Gpt2Config c, double rows)
    {
        double d = c.DModel;
        return 2 * rows * (d * 3 * d + d * d + 2 * d * c.DMlp);
    }

    /// <summary>
    /// q·kᵀ and pattern·v per (sequence, head) over the (query, key) pairs the forward computes: in blocks of
    /// query rows, each up to its last row's keys (<see cref="Attention.RowBlocks"/>); the backward's four
    /// products run over the same pairs.
    /// </summary>
    private static double ForwardAttention(Gpt2Config c, int batch, int tokens) =>
        2 * 2.0 * batch * Attention.ComputedScores(tokens) * c.DModel;

    /// <summary>
    /// The exact gradient of one metric row per sequence from the residual stream before the last
    /// <paramref name="layers"/> blocks, as attribution and the anchor's workload run it: their forward
    /// keeping activations, without logits and told that only the metric rows are read, so the last block
    /// computes q, k, v and the attention at every row but its O projection and MLP at the metric rows
    /// alone; then the backward. A block's backward runs each weight product once (the input's gradient; no
    /// weight gradients) and four attention products (dv, dA, dq, dk) over the forward's blocks of query
    /// rows; in the last block only the metric rows carry gradient until attention spreads it, so its MLP
    /// and O projection run on them alone and its attention products are one query row's (T×d_head each).
    /// </summary>
    public static double Gpt2Gradient(Gpt2Config c, int batch, int tokens, int layers)
    {
        double rows = (double)batch * tokens, d = c.DModel;
        double qkv = 2 * 3 * d * d, o = 2 * d * d, mlp = 2 * 2 * d * c.DMlp;   // per row, forward or backward
        double lastForward = rows * qkv + ForwardAttention(c, batch, tokens) + batch * (o + mlp);
        double lastBackward = batch * (mlp + o) + 4 * 2.0 * batch * tokens * d + rows * qkv;
        double backward = (layers - 1) * (rows * (mlp + qkv + o) + 2 * ForwardAttention(c, batch, tokens));
        return Gpt2Forward(c, batch, tokens, layers - 1, 0) + lastForward + lastBackward + backward;
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
