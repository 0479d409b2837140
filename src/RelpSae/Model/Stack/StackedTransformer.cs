using System.Numerics.Tensors;
using RelpSae.Lrp;

namespace RelpSae.Model;

/// <summary>
/// The skeleton every family shares: token embedding → blocks → final norm → unembedding, with hooks, restarts
/// from a residual hook, reuse of a clean prefix, the last block on the read rows alone, and the backward pass.
/// Each family writes its block's two branches (attention, MLP) forward and backward and its final norm, and states
/// its exact gradients; <typeparamref name="TLayer"/> holds what one block keeps for the backward, rented from <see cref="Pool"/>.
/// </summary>
public abstract class StackedTransformer<TLayer> : ITransformer where TLayer : BlockActivations
{
    protected StackedTransformer(ModelFacts facts)
    {
        Facts = facts;
        Scores = [.. Enumerable.Repeat(AttentionScores.Standard(facts.DHead), facts.NLayers)];
    }

    public ModelFacts Facts { get; }

    /// <summary>The buffers of disposed runs, kept for the next pass of the same shape (up to 1 GiB).</summary>
    internal Numerics.FloatPool Pool { get; } = new(1L << 28);

    /// <summary>Token <paramref name="id"/>'s row of the embedding [V × d] (d values), unscaled.</summary>
    internal abstract void EmbeddingRow(int id, Span<float> into);

    /// <summary>The unembedding (lm_head) [V × d].</summary>
    internal abstract Linear Unembed { get; }

    /// <summary>What the embedding rows are multiplied by (Gemma: √d_model, the tied unembedding left as it is).</summary>
    internal float EmbeddingScale { get; init; } = 1;

    /// <summary>How each block's attention scores are formed: q·kᵀ/√d_head over every earlier key unless the family says otherwise.</summary>
    internal AttentionScores[] Scores { get; init; }

    /// <summary>The cap on the logits (Gemma-2's final_logit_softcapping), none unless the family has one.</summary>
    internal Softcap LogitSoftcap { get; init; }

    /// <summary>One block's buffers, rented from <see cref="Pool"/>, for <paramref name="tokens"/> computed rows a sequence after <paramref name="prefixRows"/> reused ones.</summary>
    internal abstract TLayer NewLayer(int batch, int tokens, int prefixRows);

    /// <summary>
    /// Block l's attention branch, from its hook_resid_pre to its hook_resid_mid: the residual rows in place; false once
    /// StopAfter is reached. Past its attention pattern it works on <see cref="BlockRun{TLayer}.RowsPastAttention"/>.
    /// </summary>
    internal abstract bool Attention(BlockRun<TLayer> run, int l);

    /// <summary>Block l's MLP branch on <paramref name="rows"/>, up to its hook_resid_post; false once StopAfter is reached.</summary>
    internal abstract bool Mlp(BlockRun<TLayer> run, int l, RowSet rows);

    /// <summary>The final norm of <paramref name="rows"/> of the residual into run.Final (keeping x̂ and the scale).</summary>
    internal abstract void FinalNorm(BlockRun<TLayer> run, RowSet rows);

    /// <summary>After the token embedding and its hook: what else the family adds before the first block (GPT-2's learned positions); false to stop.</summary>
    internal virtual bool Positions(BlockRun<TLayer> run) => true;

    /// <summary>The exact gradients of the operations a rule can replace (<see cref="BackwardFunctions.Resolve"/>).</summary>
    internal abstract ExactGradients Exact { get; }

    /// <summary>The final norm's scale, for the metric's gradient through it.</summary>
    internal abstract float[] FinalNormScale { get; }

    /// <summary>Block l's MLP pre-norm as the forward kept it: x̂ and the scale 1/σ (or 1/rms) of every row, and its γ.</summary>
    internal abstract (float[] Hat, float[] Rstd, float[] Gamma) MlpNorm(BlockRun<TLayer> run, int l);

    /// <summary>dx += the path of <paramref name="g"/> (the gradient at block l's MLP output, non-zero on <paramref name="rows"/>) through the MLP branch.</summary>
    internal abstract void MlpBackward(BlockRun<TLayer> run, int l, float[] g, float[] dx, RowSet rows, BackwardFunctions f);

    /// <summary>
    /// dx += the path of <paramref name="g"/> (the gradient at block l's attention output, non-zero on <paramref name="rows"/>)
    /// through the attention branch, leaving the gradient at z in <paramref name="dz"/>'s buffer (returned, for the record).
    /// </summary>
    internal abstract float[] AttentionBackward(BlockRun<TLayer> run, int l, float[] g, float[] dx, RowSet rows, BackwardFunctions f);

    public BlockRun<TLayer> Forward(ReadOnlySpan<int> tokens, int batch, RunOptions? options = null)
    {
        if (batch <= 0 || tokens.Length == 0 || tokens.Length % batch != 0)
            throw new ArgumentException($"{tokens.Length} token ids do not split into {batch} equal sequences");
        int T = tokens.Length / batch, d = Facts.DModel;
        CheckLength(T);
        foreach (int id in tokens)
            if ((uint)id >= (uint)Facts.VocabSize)
                throw new RelpSaeException($"token id {id} is outside the model's vocabulary (0..{Facts.VocabSize - 1})");
        var run = new BlockRun<TLayer>(this, batch, T, null, options ?? new RunOptions());
        // Rows gathered from the panels of a tied embedding, one cache line a value: a band per thread
        // (on one thread, the embeddings were 40 % of a 2-thread pass's time outside the threads' jobs).
        var ids = tokens.ToArray();
        RowSet.All(ids.Length).For(d, (first, _, count) =>
        {
            for (int r = first; r < first + count; r++)
            {
                var row = run.Residual.AsSpan(r * d, d);
                EmbeddingRow(ids[r], row);
                if (EmbeddingScale != 1) System.Numerics.Tensors.TensorPrimitives.Multiply(row, EmbeddingScale, row);
            }
        });
        if (run.Hook(new HookPoint(HookKind.Embed, -1), run.Residual) && Positions(run)) RunBlocks(run, 0, mlpOnly: false);
        return run;
    }

    public BlockRun<TLayer> ForwardFrom(HookPoint start, ReadOnlySpan<float> activation, int batch, int tokens, RunOptions? options = null)
    {
        if (!start.IsResidual || (start.Kind == HookKind.ResidMid && Facts.ParallelResidual))
            throw new RelpSaeException($"a forward pass can restart only from a residual hook of this model, not {start}");
        CheckLength(tokens);
        var run = new BlockRun<TLayer>(this, batch, tokens, start, options ?? new RunOptions());
        RunFrom(run, start, activation);
        return run;
    }

    /// <summary>
    /// The activation at <paramref name="hook"/> for token ids [batch × tokens], computing nothing after it:
    /// the prefix to run once before many <see cref="ForwardFrom"/> / <see cref="BlockRun{TLayer}.Rerun"/> calls.
    /// </summary>
    public float[] ActivationAt(HookPoint hook, ReadOnlySpan<int> tokens, int batch)
    {
        using var run = Forward(tokens, batch, new RunOptions { Cache = [hook], StopAfter = hook, Logits = LogitRows.None });
        return run.Cached(hook);
    }

    public float[] DirectionLogits(ReadOnlySpan<float> directions, int count)
    {
        int d = Facts.DModel;
        if (directions.Length != count * d) throw new ArgumentException($"{directions.Length} values are not {count} directions of width {d}");
        var read = directions.ToArray();
        for (int r = 0; r < count; r++)
        {
            var row = read.AsSpan(r * d, d);
            // A LayerNorm subtracts the mean before scaling: fold_ln centres W_U's rows to the same effect.
            if (Exact.NormKind == NormKind.LayerNorm) TensorPrimitives.Subtract(row, TensorPrimitives.Sum(row) / d, row);
            TensorPrimitives.Multiply(row, FinalNormScale, row);
        }
        // No family's head has a bias, so this is x·W_U alone.
        var logits = new float[(long)count * Facts.VocabSize];
        Unembed.Apply(read, count, logits, Facts.VocabSize);
        return logits;
    }

    public float[] UnembeddingRow(int id)
    {
        if ((uint)id >= (uint)Facts.VocabSize) throw new RelpSaeException($"token id {id} is outside the model's vocabulary (0..{Facts.VocabSize - 1})");
        var row = new float[Facts.DModel];
        Unembed.Row(id, row);
        return row;
    }

    public float[] UnembeddingMean()
    {
        var sum = new double[Facts.DModel];
        var row = new float[Facts.DModel];
        for (int v = 0; v < Facts.VocabSize; v++)
        {
            Unembed.Row(v, row);
            for (int j = 0; j < row.Length; j++) sum[j] += row[j];
        }
        return [.. sum.Select(x => (float)(x / Facts.VocabSize))];
    }

    ITransformerRun ITransformer.Forward(ReadOnlySpan<int> tokens, int batch, RunOptions? options) => Forward(tokens, batch, options);

    ITransformerRun ITransformer.ForwardFrom(HookPoint start, ReadOnlySpan<float> activation, int batch, int tokens, RunOptions? options) =>
        ForwardFrom(start, activation, batch, tokens, options);

    internal void RunFrom(BlockRun<TLayer> run, HookPoint start, ReadOnlySpan<float> activation)
    {
        run.Reset();
        CleanPrefix.CopyComputedRows(activation, run.Residual, run.Batch, run.Tokens, run.First, Facts.DModel);
        var (layer, mlpOnly) = start.Restart;
        RunBlocks(run, layer, mlpOnly);
    }

    private void RunBlocks(BlockRun<TLayer> run, int firstLayer, bool mlpOnly)
    {
        for (int l = firstLayer; l < Facts.NLayers; l++)
        {
            if (!(mlpOnly && l == firstLayer) && !(run.Hook(HookKind.ResidPre, l, run.Residual) && Attention(run, l))) return;
            if (!Mlp(run, l, run.RowsPastAttention(l))) return;
        }
        FinalNorm(run, run.RowsPastAttention(Facts.NLayers - 1));
        run.Finish();
    }

    private void CheckLength(int tokens)
    {
        if (tokens > Facts.Context)
            throw new RelpSaeException($"a sequence of {tokens} tokens is longer than the model's context of {Facts.Context} ({Facts.ContextKey})");
    }

    /// <summary>
    /// The backward pass down to <paramref name="hook"/>, with the rules resolved once against the family's exact
    /// gradients; with <paramref name="record"/>, the coefficient at every component it passes is copied there too.
    /// </summary>
    internal float[] Backward(BlockRun<TLayer> run, IReadOnlyList<Metric> metrics, HookPoint hook, PropagationRules rules, ComponentGradients? record = null)
    {
        int target = TargetDepth(run, hook);
        var f = BackwardFunctions.Resolve(rules, Exact);
        var (dx, metricRows) = run.MetricGradient(metrics, f, FinalNormScale);
        BackwardLoop.Run(Facts.NLayers, target, dx, run.Rows, metricRows, (l, g, rows) => MlpBackward(run, l, g, dx, rows, f),
            (l, g, rows) => AttentionBackward(run, l, g, dx, rows, f), record, Facts.ParallelResidual);
        return dx;
    }

    internal void SeededBackward(BlockRun<TLayer> run, IReadOnlyList<GradientSeed> seeds, PropagationRules rules, ComponentGradients record, IReadOnlyList<MlpSkip> skips,
        ResidualCut? cut) =>
        Model.SeededBackward.Run(this, run, seeds, rules, record, skips, cut);

    /// <summary>
    /// Position of a hook along the residual stream: resid_pre of block l is 2l, resid_mid (and attn_out,
    /// whose gradient is resid_mid's, unless attention and MLP run in parallel) 2l + 1, resid_post and
    /// mlp_out 2l + 2.
    /// </summary>
    internal int Depth(HookPoint hook) => hook.Kind switch
    {
        HookKind.ResidPre => 2 * hook.Layer,
        HookKind.ResidMid when !Facts.ParallelResidual => 2 * hook.Layer + 1,
        HookKind.AttnOut => Facts.ParallelResidual ? 2 * hook.Layer + 2 : 2 * hook.Layer + 1,
        HookKind.ResidPost or HookKind.MlpOut => 2 * hook.Layer + 2,
        _ => throw new RelpSaeException($"the backward pass reaches residual hooks (hook_resid_pre/mid/post, hook_attn_out, hook_mlp_out), not {hook}"),
    };

    /// <summary>The depth of the target hook, refused when the run started after it.</summary>
    internal int TargetDepth(BlockRun<TLayer> run, HookPoint hook)
    {
        int target = Depth(hook);
        if (run.Start is { } start && target < Depth(start))
            throw new RelpSaeException($"the backward pass cannot reach {hook}: this forward pass started at {start}");
        return target;
    }
}
