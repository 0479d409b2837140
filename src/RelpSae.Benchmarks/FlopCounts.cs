using RelpSae.Model;

namespace RelpSae.Benchmarks;

/// <summary>
/// One block's weight products, as multiply-adds per row: those before attention (q, k, v) and those after it
/// (the O projection and the MLP); and the width of its attention products (heads × d_head of the queries).
/// </summary>
public readonly record struct BlockProducts(double BeforeAttention, double AfterAttention, double AttentionWidth)
{
    /// <summary>A GPT-2 block: fused qkv d → 3d, O d → d, MLP d → d_mlp → d.</summary>
    public static BlockProducts Of(Gpt2Config c) => new(3.0 * c.DModel * c.DModel, (double)c.DModel * c.DModel + 2.0 * c.DModel * c.DMlp, c.DModel);
}

/// <summary>
/// Floating-point work of the benchmarked workloads, counted as the products actually run (2 FLOP per
/// multiply-add), so achieved GFLOP/s can be set against the FMA peak. Element-wise work is left out.
/// </summary>
public static class FlopCounts
{
    /// <summary>The first <paramref name="layers"/> blocks on batch × tokens rows, then <paramref name="logitRows"/> rows of logits.</summary>
    public static double Gpt2Forward(Gpt2Config c, int batch, int tokens, int layers, int logitRows) =>
        Forward(Blocks(c, layers), batch, tokens, lastOnMetricRows: false, logitRows, (double)c.DModel * c.VocabSize);

    /// <summary>
    /// The anchor's backward workload: a forward keeping its activations, without logits, from token ids
    /// through the blocks before blocks.<paramref name="toLayer"/>, then <see cref="Gpt2Gradient"/> of the rest.
    /// </summary>
    public static double Gpt2ForwardBackward(Gpt2Config c, int batch, int tokens, int toLayer) =>
        Gpt2Forward(c, batch, tokens, toLayer, 0) + Gpt2Gradient(c, batch, tokens, c.NLayers - toLayer);

    /// <summary>
    /// The exact gradient of one metric row per sequence from the residual stream before the last
    /// <paramref name="layers"/> blocks, as attribution and the anchor's workload run it: their forward
    /// keeping activations, without logits and told that only the metric rows are read, then the backward
    /// (<see cref="Forward"/>, <see cref="Backward"/>).
    /// </summary>
    public static double Gpt2Gradient(Gpt2Config c, int batch, int tokens, int layers)
    {
        var blocks = Blocks(c, layers);
        return Forward(blocks, batch, tokens, lastOnMetricRows: true, 0, 0) + Backward(blocks, batch, tokens);
    }

    /// <summary>
    /// A forward through <paramref name="blocks"/> on batch × tokens rows, then <paramref name="logitRows"/> rows of
    /// logits through a head of <paramref name="headPerRow"/> multiply-adds a row. With <paramref name="lastOnMetricRows"/>
    /// (a forward told that only one row per sequence is read) the last block computes q, k, v and the attention at
    /// every row but its O projection and MLP at the metric rows alone.
    /// </summary>
    public static double Forward(IReadOnlyList<BlockProducts> blocks, int batch, int tokens, bool lastOnMetricRows, int logitRows, double headPerRow)
    {
        double rows = (double)batch * tokens, sum = 0;
        for (int l = 0; l < blocks.Count; l++)
        {
            var b = blocks[l];
            double after = lastOnMetricRows && l == blocks.Count - 1 ? batch : rows;
            sum += 2 * rows * b.BeforeAttention + ForwardAttention(b, batch, tokens) + 2 * after * b.AfterAttention;
        }
        return sum + 2.0 * logitRows * headPerRow;
    }

    /// <summary>
    /// The backward of one metric row per sequence through <paramref name="blocks"/> (those after the hook). A block's
    /// backward runs each weight product once (the input's gradient; no weight gradients) and four attention products
    /// (dv, dA, dq, dk) over the forward's blocks of query rows; in the last block only the metric rows carry
    /// gradient until attention spreads it, so its MLP and O projection run on them alone and its attention
    /// products are one query row's (T × d_head each).
    /// </summary>
    public static double Backward(IReadOnlyList<BlockProducts> blocks, int batch, int tokens)
    {
        double rows = (double)batch * tokens, sum = 0;
        for (int l = 0; l < blocks.Count; l++)
        {
            var b = blocks[l];
            sum += l == blocks.Count - 1
                ? 2 * batch * b.AfterAttention + 4 * 2.0 * batch * tokens * b.AttentionWidth + 2 * rows * b.BeforeAttention
                : 2 * rows * (b.BeforeAttention + b.AfterAttention) + 2 * ForwardAttention(b, batch, tokens);
        }
        return sum;
    }

    private static BlockProducts[] Blocks(Gpt2Config c, int layers) => [.. Enumerable.Repeat(BlockProducts.Of(c), layers)];

    /// <summary>
    /// q·kᵀ and pattern·v per (sequence, head) over the (query, key) pairs the forward computes: in blocks of
    /// query rows, each up to its last row's keys (<see cref="Attention.RowBlocks"/>); the backward's four
    /// products run over the same pairs.
    /// </summary>
    private static double ForwardAttention(BlockProducts b, int batch, int tokens) =>
        2 * 2.0 * batch * Attention.ComputedScores(tokens) * b.AttentionWidth;

    /// <summary>
    /// One training step of a d_in → d_sae SAE on <paramref name="rows"/> rows: encode and decode forward,
    /// then the decoder-weight, feature and encoder-weight gradients — five dense products; with
    /// <paramref name="activePerRow"/> (TopK's k on its sparse path) only the encoder is dense and the four
    /// others touch k latents a row.
    /// </summary>
    public static double SaeTrainStep(int rows, int dIn, int dSae, int activePerRow = 0) =>
        2.0 * rows * dIn * dSae + 4 * 2.0 * rows * dIn * (activePerRow > 0 ? activePerRow : dSae);
}
