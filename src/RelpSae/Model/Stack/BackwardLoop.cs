namespace RelpSae.Model;

/// <summary>
/// The layer loop of every family's backward pass: from the top, each block's MLP and then its attention add their
/// paths into dx, down to the target depth (<see cref="StackedTransformer{TLayer}.Depth"/>); with a record, every
/// component's coefficient is copied there as the loop passes it. In the last block only the metric rows carry
/// gradient until attention spreads it, so its MLP and its attention's output product run on those rows alone.
/// </summary>
internal static class BackwardLoop
{
    /// <summary>The MLP branch's backward: (layer, g = the gradient at its output, the rows g is non-zero on); adds its path into dx.</summary>
    public delegate void MlpBranch(int layer, float[] g, RowSet rows);

    /// <summary>The attention branch's backward, as <see cref="MlpBranch"/>; returns the buffer holding the gradient at z.</summary>
    public delegate float[] AttentionBranch(int layer, float[] g, RowSet rows);

    /// <param name="metricRows">The row of each sequence's metric: the only rows of dx that are not zero at the top (null: any row may be).</param>
    /// <param name="parallel">Attention and MLP read the same residual (GPT-NeoX): both start from the gradient at resid_post.</param>
    /// <param name="inject">Called with l where dx is the gradient at block l's MLP input (resid_mid; resid_pre when parallel), to seed more gradient there.</param>
    public static void Run(int layers, int target, float[] dx, int rows, int[]? metricRows, MlpBranch mlp, AttentionBranch attention,
        ComponentGradients? record, bool parallel, Action<int>? inject = null)
    {
        // Parallel: both branches read the gradient at resid_post, so it is kept apart from dx.
        var g = parallel ? new float[dx.Length] : dx;
        for (int l = layers - 1; 2 * l + 2 > target; l--)
        {
            var active = l == layers - 1 && metricRows is not null ? RowSet.Of(metricRows) : RowSet.All(rows);
            if (parallel) dx.CopyTo(g, 0);
            if (record is not null) ComponentGradients.Record(record.MlpOut, l, dx, dx.Length);
            mlp(l, g, active);
            if (!parallel) inject?.Invoke(l);
            // Parallel: attention's output adds into resid_post, so its coefficient is g, resid_post's; else resid_mid's.
            if (record is not null) ComponentGradients.Record(record.AttnOut, l, g, g.Length);
            if (2 * l + 1 == target) break;
            var dz = attention(l, g, active);
            if (parallel) inject?.Invoke(l);
            if (record is not null)
            {
                ComponentGradients.Record(record.Z, l, dz, dz.Length);
                ComponentGradients.Record(record.ResidPre, l, dx, dx.Length);
            }
        }
    }
}
