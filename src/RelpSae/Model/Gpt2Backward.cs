using RelpSae.Lrp;
using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// The backward pass from a scalar metric to a residual hook point, block by block in reverse. Each
/// operation that a propagation rule can replace (LayerNorm, GELU, attention) calls the function the
/// rules choose; everything else (linear maps, residual adds) is the plain gradient.
/// </summary>
internal static class Gpt2Backward
{
    /// <summary>
    /// The backward pass down to <paramref name="hook"/>; with <paramref name="record"/>, the coefficient at
    /// every component it passes is copied there as well (the pass itself is unchanged).
    /// </summary>
    public static float[] Run(Gpt2Run run, IReadOnlyList<Metric> metrics, HookPoint hook, PropagationRules rules, ComponentGradients? record = null)
    {
        var c = run.Model.Config;
        var w = run.Model.Weights;
        int d = c.DModel, T = run.Tokens;
        int target = Depth(hook, c);
        if (run.Start is { } start && target < Depth(start, c))
            throw new RelpSaeException($"the backward pass cannot reach {hook}: this forward pass started at {start}");

        var functions = BackwardFunctions.Resolve(rules, new ExactGradients(NormKind.LayerNorm, LayerNorm.Gradient, Gelu.Gradient));
        var (layerNorm, gelu) = (functions.Norm, functions.Activation);

        var dx = new float[run.Rows * d];
        var dh = new float[d];
        var scratch = new float[d];
        var metricRows = new int[run.Batch];
        for (int b = 0; b < run.Batch; b++)
        {
            var metric = metrics[metrics.Count == 1 ? 0 : b];
            int row = metricRows[b] = b * T + metric.ResolvePosition(T);
            metric.Gradient(run.Final.AsSpan(row * d, d), w.Unembed, dh);
            layerNorm(dh, run.FinalHat.AsSpan(row * d, d), run.FinalRstd[row], w.LnFGamma, dx.AsSpan(row * d, d), scratch);
        }

        var work = run.BackwardBuffers;
        int size = run.Rows * d;
        for (int l = c.NLayers - 1; 3 * l + 3 > target; l--)
        {
            if (record is not null) ComponentGradients.Record(record.MlpOut, l, dx, size);
            // Until attention spreads it, only the metric rows carry gradient: the last block's MLP,
            // which works row by row, runs on those rows alone.
            Mlp(run, l, dx, l == c.NLayers - 1 ? metricRows : null, gelu, layerNorm, work);
            if (record is not null) ComponentGradients.Record(record.AttnOut, l, dx, size);
            if (3 * l + 1 == target) break;
            SelfAttention(run, l, dx, l == c.NLayers - 1 ? metricRows : null, rules.Attention, layerNorm, work);
            if (record is not null)
            {
                ComponentGradients.Record(record.Z, l, work.Z, size);
                ComponentGradients.Record(record.ResidPre, l, dx, size);
            }
        }
        return dx;
    }

    /// <summary>
    /// Position of a hook along the residual stream: resid_pre of block l is 3l, resid_mid (and attn_out,
    /// whose gradient is resid_mid's) 3l + 1, resid_post (and mlp_out) 3l + 3, which is resid_pre of l + 1.
    /// </summary>
    private static int Depth(HookPoint hook, Gpt2Config c) => hook.Kind switch
    {
        HookKind.ResidPre => 3 * hook.Layer,
        HookKind.ResidMid or HookKind.AttnOut => 3 * hook.Layer + 1,
        HookKind.ResidPost or HookKind.MlpOut => 3 * hook.Layer + 3,
        _ => throw new RelpSaeException($"the backward pass reaches residual hooks (hook_resid_pre/mid/post, hook_attn_out, hook_mlp_out), not {hook}"),
    };

    /// <summary>
    /// dx (the gradient at resid_post) += its path through the MLP and LN2: dx becomes the gradient at
    /// resid_mid. With <paramref name="rows"/>, dx is zero elsewhere: only those rows are gathered and run.
    /// </summary>
    private static void Mlp(Gpt2Run run, int l, float[] dx, int[]? rows, ElementwiseBackward gelu, Lrp.NormBackward layerNorm, Buffers work)
    {
        var c = run.Model.Config;
        var w = run.Model.Weights.Layers[l];
        var wt = run.Model.Weights.Packed.Backward(l);
        var s = run.Layer(l);
        int k = rows?.Length ?? run.Rows, d = c.DModel, m = c.DMlp;
        var input = dx;
        if (rows is not null)
        {
            input = work.Qkv;   // free until the attention backward
            SelectedRows.Gather(dx, rows, d, input);
        }
        Gemm.Multiply(k, input, d, false, wt.Proj, work.Hidden, m);
        var hidden = work.Hidden;
        if (rows is null)
            RowBands.For(k, m, (r0, r1) =>
            {
                int at = r0 * m, count = (r1 - r0) * m;
                gelu(s.Pre.AsSpan(at, count), s.Post.AsSpan(at, count), hidden.AsSpan(at, count), hidden.AsSpan(at, count));
            });
        else
            for (int i = 0; i < k; i++)
                gelu(s.Pre.AsSpan(rows[i] * m, m), s.Post.AsSpan(rows[i] * m, m), hidden.AsSpan(i * m, m), hidden.AsSpan(i * m, m));
        Gemm.Multiply(k, hidden, m, false, wt.Fc, work.Model, d);
        NormBackward(layerNorm, work.Model, s.Ln2Hat, s.Ln2Rstd, w.Ln2Gamma, dx, k, rows, d);
    }

    /// <summary>dx[r] += the norm's backward of g's row i, r = rows[i] (or i), in one band of rows per thread.</summary>
    private static void NormBackward(Lrp.NormBackward layerNorm, float[] g, float[] xhat, float[] rstd, float[] gamma, float[] dx, int count, int[]? rows, int d)
    {
        RowBands.For(count, d, (i0, i1) =>
        {
            Span<float> scratch = stackalloc float[d];
            for (int i = i0; i < i1; i++)
            {
                int r = rows is null ? i : rows[i];
                layerNorm(g.AsSpan(i * d, d), xhat.AsSpan(r * d, d), rstd[r], gamma, dx.AsSpan(r * d, d), scratch);
            }
        });
    }

    /// <summary>
    /// dx (the gradient at resid_mid) += its path through attention and LN1: dx becomes the gradient at resid_pre.
    /// With <paramref name="rows"/> (one per sequence), dx is zero elsewhere: the O projection runs on those rows
    /// and each head's backward on that query row alone (<see cref="Attention.BackwardRow"/>).
    /// </summary>
    private static void SelfAttention(Gpt2Run run, int l, float[] dx, int[]? rows, AttentionShares shares, Lrp.NormBackward layerNorm, Buffers work)
    {
        var c = run.Model.Config;
        var w = run.Model.Weights.Layers[l];
        var wt = run.Model.Weights.Packed.Backward(l);
        var s = run.Layer(l);
        int n = run.Rows, d = c.DModel, T = run.Tokens;
        var dz = work.Z;
        if (rows is null) Gemm.Multiply(n, dx, d, false, wt.O, dz, d);
        else
        {
            // The rows gathered into the free gradient buffers, multiplied, scattered into a cleared dz.
            SelectedRows.Gather(dx, rows, d, work.Hidden);
            Gemm.Multiply(rows.Length, work.Hidden, d, false, wt.O, work.Model, d);
            Array.Clear(dz, 0, n * d);
            SelectedRows.Scatter(work.Model, rows, d, dz);
        }
        var dqkv = work.Qkv;
        if (rows is null) AttentionHeads.Backward(s.Qkv, s.Pattern, dz, dqkv, run.Batch, T, c.NHeads, c.DHead, shares);
        else AttentionHeads.BackwardRows(s.Qkv, s.Pattern, dz, dqkv, run.Batch, T, c.NHeads, c.DHead, rows.Select((r, b) => r - b * T).ToArray(), shares);
        Gemm.Multiply(n, dqkv, 3 * d, false, wt.Qkv, work.Model, d);
        NormBackward(layerNorm, work.Model, s.Ln1Hat, s.Ln1Rstd, w.Ln1Gamma, dx, n, null, d);
    }

    /// <summary>Gradient buffers shared by every block of a backward pass (kept by the run for the next one).</summary>
    internal sealed class Buffers(int rows, Gpt2Config c, FloatPool pool)
    {
        public readonly float[] Hidden = pool.Rent(rows * c.DMlp);
        public readonly float[] Model = pool.Rent(rows * c.DModel);
        /// <summary>dz of the last attention backward, kept until the next so that it can be recorded.</summary>
        public readonly float[] Z = pool.Rent(rows * c.DModel);
        public readonly float[] Qkv = pool.Rent(rows * 3 * c.DModel);

        public void ReturnTo(FloatPool pool)
        {
            foreach (var a in new[] { Hidden, Model, Z, Qkv }) pool.Return(a);
        }
    }
}
