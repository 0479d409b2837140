using System.Buffers;
using System.Numerics.Tensors;
using RelpSae.Lrp;
using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// Causal multi-head self-attention of one (sequence, head): A = softmax(q·kᵀ/√d_head + mask), z = A·v
/// (Gemma-2 forms its scores otherwise: <see cref="AttentionScores"/>).
/// q, k, v are d_head-wide column slices of the fused qkv rows [T, 3·width]; z is a slice of the rows [T, width].
/// Each call works on its own head, so heads run in parallel, each product on one thread. Grouped-query
/// models (Llama family) call it on rows whose K and V heads are repeated per query head, as HF's
/// repeat_kv does; <paramref name="width"/> is then n_heads·d_head.
/// </summary>
public static class Attention
{
    /// <summary>
    /// The same, computing only the query-row blocks (<see cref="RowBlocks"/>) that reach row <paramref name="fromRow"/>:
    /// each block runs as in the whole pass, so its rows are the whole pass's bit for bit; rows of earlier blocks
    /// are left as they were. A pass reusing a clean prefix (<see cref="CleanPrefixAttention"/>) asks for its rows this way.
    /// </summary>
    public static void Forward(ReadOnlySpan<float> qkv, Span<float> pattern, Span<float> z, int tokens, int head, int width, int headDim, int fromRow = 0,
        AttentionScores? scores = null)
    {
        var formed = scores ?? AttentionScores.Standard(headDim);
        foreach (var (first, end) in RowBlocks(tokens))
            if (end > fromRow) ForwardRows(qkv, pattern, z, tokens, first, end, head, width, headDim, formed);
    }

    /// <summary>
    /// Query rows in blocks of 64 to 127 (one block below 128 rows): a block's scores and its pattern·v product
    /// stop at its last row's keys, so the masked half of a long sequence's T×T is mostly never computed. Each
    /// product keeps at least 64 rows, so it takes the kernels the whole T×T would, and the keys past a block's
    /// end would only have added exact zeros: the results are those of the full products, bit for bit.
    /// </summary>
    internal static IEnumerable<(int First, int End)> RowBlocks(int tokens)
    {
        for (int first = 0; first < tokens; first += RowBlock)
        {
            int end = tokens - first < 2 * RowBlock ? tokens : first + RowBlock;
            yield return (first, end);
            if (end == tokens) yield break;
        }
    }

    private const int RowBlock = 64;

    /// <summary>(query, key) scores the forward computes for a sequence of <paramref name="tokens"/> (FLOP counts).</summary>
    internal static long ComputedScores(int tokens) => RowBlocks(tokens).Sum(b => (long)(b.End - b.First) * b.End);

    /// <summary>Query rows first..end of <see cref="Forward(ReadOnlySpan{float}, Span{float}, Span{float}, int, int, int, int, int)"/>.</summary>
    private static void ForwardRows(ReadOnlySpan<float> qkv, Span<float> pattern, Span<float> z, int tokens, int first, int end, int head, int width, int headDim,
        AttentionScores scores)
    {
        int d = width, dh = headDim, T = tokens, rows = end - first;
        // The head's columns of the fused rows: the block's queries, and the keys and values they see.
        var q = Matrix.Of(qkv[(first * 3 * d + head * dh)..], rows, dh, 3 * d);
        var k = Matrix.Of(qkv[(d + head * dh)..], end, dh, 3 * d);
        var v = Matrix.Of(qkv[(2 * d + head * dh)..], end, dh, 3 * d);
        var block = Matrix.Into(pattern[(first * T)..], rows, end, T);
        Gemm.Multiply(q, k.T, block, accumulate: false, threads: 1);
        for (int i = first; i < end; i++)
        {
            var row = pattern.Slice(i * T, T);
            int seen = scores.FirstKey(i);
            var visible = row[seen..(i + 1)];
            TensorPrimitives.Multiply(visible, scores.Scale, visible);
            scores.Cap.Apply(visible);
            Softmax.Apply(visible, visible);
            row[..seen].Clear();
            row[(i + 1)..].Clear();
        }
        Gemm.Multiply(block, v, Matrix.Into(z[(first * d + head * dh)..], rows, dh, d), accumulate: false, threads: 1);
    }

    /// <summary>
    /// Backward of one head from dz (rows [T, d]) into the head's q, k, v slices of dqkv (rows [T, 3d]),
    /// each factor's share set by <paramref name="shares"/> (exact, AH-rule or half-attn).
    /// </summary>
    /// <remarks>
    /// A key outside a sliding window has pattern 0, so the softmax backward gives its score no gradient: the
    /// window needs nothing here. In the forward's blocks of query rows (<see cref="RowBlocks"/>), each stopping at its last row's keys:
    /// a block adds its share to dv and dk over those keys and gives its rows' dq.
    /// </remarks>
    public static void Backward(ReadOnlySpan<float> qkv, ReadOnlySpan<float> pattern, ReadOnlySpan<float> dz, Span<float> dqkv,
        int tokens, int head, int width, int headDim, AttentionShares shares, AttentionScores? scores = null)
    {
        var formed = scores ?? AttentionScores.Standard(headDim);
        int d = width, dh = headDim, T = tokens;
        var q = qkv[(head * dh)..];
        var k = qkv[(d + head * dh)..];
        var v = qkv[(2 * d + head * dh)..];
        var dzh = dz[(head * dh)..];
        var dq = dqkv[(head * dh)..];
        var dk = dqkv[(d + head * dh)..];
        var dv = dqkv[(2 * d + head * dh)..];
        float qk = shares.Pattern * shares.QueryKey * formed.Scale;
        ScaleColumns(dv, T, dh, 3 * d, 0);
        ScaleColumns(dk, T, dh, 3 * d, 0);
        if (qk == 0) ScaleColumns(dq, T, dh, 3 * d, 0);
        int blockScores = Math.Min(T, 2 * RowBlock) * T;
        // A capped head recomputes its scores to take the slope of the cap.
        var rented = qk == 0 ? null : ArrayPool<float>.Shared.Rent(formed.Cap.IsSet ? 2 * blockScores : blockScores);
        foreach (var (first, end) in RowBlocks(T))
        {
            int rows = end - first;
            // The head's columns of the fused rows: the block's queries (and their dz), the keys and values they see.
            var qRows = Matrix.Of(q[(first * 3 * d)..], rows, dh, 3 * d);
            var dzRows = Matrix.Of(dzh[(first * d)..], rows, dh, d);
            var kSeen = Matrix.Of(k, end, dh, 3 * d);
            var vSeen = Matrix.Of(v, end, dh, 3 * d);
            var a = Matrix.Of(pattern[(first * T)..], rows, end, T);
            Gemm.Multiply(a.T, dzRows, Matrix.Into(dv, end, dh, 3 * d), accumulate: true, threads: 1);
            if (rented is null) continue;
            var dS = rented.AsSpan(0, rows * end);
            Gemm.Multiply(dzRows, vSeen.T, Matrix.Into(dS, rows, end), accumulate: false, threads: 1);
            var raw = formed.Cap.IsSet ? rented.AsSpan(blockScores, rows * end) : default;
            if (formed.Cap.IsSet) Gemm.Multiply(qRows, kSeen.T, Matrix.Into(raw, rows, end), accumulate: false, threads: 1);
            for (int i = first; i < end; i++)
            {
                var row = dS.Slice((i - first) * end, end);
                SoftmaxBackward(pattern.Slice(i * T, i + 1), row[..(i + 1)], qk);
                if (formed.Cap.IsSet) CapSlope(raw.Slice((i - first) * end, i + 1), row[..(i + 1)], formed);
                row[(i + 1)..].Clear();
            }
            Gemm.Multiply(Matrix.Of(dS, rows, end), kSeen, Matrix.Into(dq[(first * 3 * d)..], rows, dh, 3 * d), accumulate: false, threads: 1);
            Gemm.Multiply(Matrix.Of(dS, rows, end).T, qRows, Matrix.Into(dk, end, dh, 3 * d), accumulate: true, threads: 1);
        }
        ScaleColumns(dv, T, dh, 3 * d, shares.Value);
        if (rented is not null) ArrayPool<float>.Shared.Return(rented);
    }

    /// <summary>
    /// <see cref="Backward"/> when dz is zero but at row <paramref name="query"/> (the last block, where only the
    /// metric's row carries gradient): only that row of the pattern takes part (0 outside a sliding window, as in <see cref="Backward"/>), so dv and dk are rank one over
    /// keys 0..query, dq is that row's, every other row of the head's dqkv slices is zero — T·d_head work, not T²·d_head.
    /// </summary>
    public static void BackwardRow(ReadOnlySpan<float> qkv, ReadOnlySpan<float> pattern, ReadOnlySpan<float> dz, Span<float> dqkv,
        int tokens, int query, int head, int width, int headDim, AttentionShares shares, AttentionScores? scores = null)
    {
        int d = width, dh = headDim, T = tokens, keys = query + 1;
        var dzRow = dz.Slice(query * d + head * dh, dh);
        var dq = dqkv[(head * dh)..];
        var dk = dqkv[(d + head * dh)..];
        var dv = dqkv[(2 * d + head * dh)..];
        ScaleColumns(dq, T, dh, 3 * d, 0);
        ScaleColumns(dk, T, dh, 3 * d, 0);
        ScaleColumns(dv, T, dh, 3 * d, 0);

        var a = pattern.Slice(query * T, keys);
        // The row's pattern and its dz as a column and a row: dv = aᵀ·dz over the keys, a rank-one product.
        Gemm.Multiply(Matrix.Of(a, keys, 1), Matrix.Of(dzRow, 1, dh), Matrix.Into(dv, keys, dh, 3 * d), accumulate: false, threads: 1);
        ScaleColumns(dv, keys, dh, 3 * d, shares.Value);
        // Scores of the standard form divide by √d_head, as this path always has; others scale as the forward did.
        float qk = scores is { } formed ? shares.Pattern * shares.QueryKey * formed.Scale : shares.Pattern * shares.QueryKey / MathF.Sqrt(dh);
        if (qk == 0) return;
        bool capped = scores is { Cap.IsSet: true };
        var rented = ArrayPool<float>.Shared.Rent(capped ? 2 * keys : keys);
        var dS = rented.AsSpan(0, keys);
        var v = Matrix.Of(qkv[(2 * d + head * dh)..], keys, dh, 3 * d);
        var k = Matrix.Of(qkv[(d + head * dh)..], keys, dh, 3 * d);
        var q = Matrix.Of(qkv.Slice(query * 3 * d + head * dh, dh), 1, dh);
        Gemm.Multiply(Matrix.Of(dzRow, 1, dh), v.T, Matrix.Into(dS, 1, keys), accumulate: false, threads: 1);
        SoftmaxBackward(a, dS, qk);
        if (capped)
        {
            // A capped head recomputes the row's scores to take the slope of the cap.
            var raw = rented.AsSpan(keys, keys);
            Gemm.Multiply(q, k.T, Matrix.Into(raw, 1, keys), accumulate: false, threads: 1);
            CapSlope(raw, dS, scores!.Value);
        }
        Gemm.Multiply(Matrix.Of(dS, 1, keys), k, Matrix.Into(dq[(query * 3 * d)..], 1, dh, 3 * d), accumulate: false, threads: 1);
        Gemm.Multiply(Matrix.Of(dS, keys, 1), q, Matrix.Into(dk, keys, dh, 3 * d), accumulate: false, threads: 1);
        ArrayPool<float>.Shared.Return(rented);
    }

    /// <summary>Softmax backward over one row's visible keys, in place: dS = A ⊙ (dA − Σ_j A·dA), times the shares and 1/√d_head (<paramref name="scale"/>).</summary>
    private static void SoftmaxBackward(ReadOnlySpan<float> a, Span<float> visible, float scale)
    {
        float dot = TensorPrimitives.Dot(a, visible);
        TensorPrimitives.Subtract(visible, dot, visible);
        TensorPrimitives.Multiply(visible, a, visible);
        TensorPrimitives.Multiply(visible, scale, visible);
    }

    /// <summary>dS ⊙= the cap's slope at the scaled scores (q·kᵀ <paramref name="raw"/> of one row's visible keys, overwritten).</summary>
    private static void CapSlope(Span<float> raw, Span<float> dS, AttentionScores scores)
    {
        TensorPrimitives.Multiply(raw, scores.Scale, raw);
        scores.Cap.MultiplySlope(raw, dS);
    }

    private static void ScaleColumns(Span<float> m, int rows, int cols, int ld, float s)
    {
        if (s == 1) return;
        for (int r = 0; r < rows; r++)
        {
            var row = m.Slice(r * ld, cols);
            if (s == 0) row.Clear(); else TensorPrimitives.Multiply(row, s, row);
        }
    }
}
