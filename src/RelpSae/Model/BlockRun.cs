using RelpSae.Lrp;

namespace RelpSae.Model;

/// <summary>
/// One forward pass of a <see cref="StackedTransformer{TLayer}"/>: the residual stream, each block's kept
/// activations (<typeparamref name="TLayer"/>, the family's own), cached hooks, the final norm's rows and
/// the logits. Rows are laid out [batch × tokens]. The residual, final-norm and logit buffers come from
/// the model's pool: disposing the run gives them back for the next pass of the same shape (a fresh
/// logits array costs its page faults every pass), so copy what must outlive it.
/// </summary>
public sealed class BlockRun<TLayer> : ITransformerRun where TLayer : class
{
    private readonly HookRecorder hooks;
    private readonly TLayer[] layers;
    private readonly CleanPrefixAttention? prefixAttention;

    internal BlockRun(StackedTransformer<TLayer> model, int batch, int tokens, HookPoint? start, RunOptions options)
    {
        Model = model;
        Batch = batch;
        Tokens = tokens;
        Start = start;
        Options = options;
        if (options.Prefix is { } prefix)
        {
            Clean = prefix.Checked<BlockRun<TLayer>>(start, options, tokens, clean => clean.Model == model && clean.Options.KeepForBackward && clean.First == 0);
            First = prefix.Rows;
            if (First > 0) prefixAttention = new CleanPrefixAttention(model.Pool, batch, tokens, First, model.Facts.NHeads, model.Facts.DHead, model.Scores);
        }
        int n = Rows, d = model.Facts.DModel;
        foreach (var patch in options.Patches) patch.Validate(model.Facts.Width(patch.Hook, tokens), batch * tokens);
        hooks = new HookRecorder(CleanPrefix.ToComputedRows(options, tokens, First), batch, Computed, hook => model.Facts.Width(hook, tokens));
        var pool = model.Pool;
        Residual = pool.Rent(n * d);
        Final = pool.Rent(n * d);
        FinalHat = pool.Rent(n * d);
        FinalRstd = pool.Rent(n);
        // Without a backward pass one set of block buffers serves every layer in turn.
        layers = options.KeepForBackward
            ? Enumerable.Range(0, model.Facts.NLayers).Select(_ => model.NewLayer(batch, Computed, First)).ToArray()
            : [model.NewLayer(batch, Computed, First)];
    }

    public StackedTransformer<TLayer> Model { get; }
    public int Batch { get; }
    public int Tokens { get; }
    /// <summary>The rows this pass computes, [batch × <see cref="Computed"/>]: all of them unless it reuses a clean prefix.</summary>
    public int Rows => Batch * Computed;

    /// <summary>Rows of each sequence taken from <see cref="RunOptions.Prefix"/>'s clean run (0 without one).</summary>
    public int First { get; }

    /// <summary>Rows computed per sequence, positions <see cref="First"/>.. of each.</summary>
    public int Computed => Tokens - First;

    internal BlockRun<TLayer>? Clean { get; }
    public HookPoint? Start { get; }
    public RunOptions Options { get; }
    public float[] Residual { get; private set; }
    public float[] Final { get; private set; }
    public float[] Logits { get; private set; } = [];
    public bool Completed { get; private set; }
    public IReadOnlyDictionary<string, float[]> Cache => hooks.ByName;

    /// <summary>The final norm's x̂ and 1/σ (or 1/rms), for the backward pass.</summary>
    internal float[] FinalHat { get; private set; }
    internal float[] FinalRstd { get; private set; }

    internal TLayer Layer(int l) => layers[layers.Length == 1 ? 0 : l];

    /// <summary>
    /// Attention of the computed rows' fused Q | K | V rows into their pattern and z: over every row, or,
    /// after a reused prefix, on the full pass's shapes from the clean run's rows <paramref name="cleanQkv"/>
    /// (<see cref="CleanPrefixAttention"/>), so that the computed rows get the full pass's bits.
    /// </summary>
    internal void Attention(float[]? cleanQkv, float[] qkv, float[] pattern, float[] z)
    {
        if (prefixAttention is not null) prefixAttention.Forward(cleanQkv!, qkv, pattern, z);
        else AttentionHeads.Forward(qkv, pattern, z, Batch, Tokens, Model.Facts.NHeads, Model.Facts.DHead, scores: Model.Scores);
    }

    public float[] Cached(HookPoint hook) => hooks.Cached(hook);

    /// <summary>Gives the buffers back to the model's pool; the run (and the arrays it exposed) must not be used after.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        foreach (var a in new[] { Residual, Final, FinalHat, FinalRstd, Logits }) Model.Pool.Return(a);
        prefixAttention?.Dispose();
        Residual = Final = FinalHat = FinalRstd = Logits = [];
        Completed = false;
    }

    private bool disposed;

    public ITransformerRun Rerun(ReadOnlySpan<float> activation)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (Start is not { } start) throw new InvalidOperationException("only a pass started from a hook (ForwardFrom) can be re-run");
        Model.RunFrom(this, start, activation);
        return this;
    }

    internal void Reset()
    {
        hooks.Reset();
        Completed = false;
    }

    /// <summary>Called by the forward pass at each hook point: copies the activation if asked; false to stop.</summary>
    internal bool Hook(HookPoint hook, float[] activation) => hooks.Hook(hook, activation);

    /// <summary>After the final norm has filled <see cref="Final"/>: its hook and the logits asked for.</summary>
    internal void Finish()
    {
        var final = new HookPoint(HookKind.LnFinal, Model.Facts.NLayers);
        Hook(final, Final);
        Completed = true;
        var unembed = Model.Unembed;
        int d = Model.Facts.DModel, V = Model.Facts.VocabSize;
        switch (Options.Logits)
        {
            case LogitRows.All:
                if (Logits.Length == 0) Logits = Model.Pool.Rent(Rows * V);
                unembed.Apply(Final, Rows, Logits, V);
                Model.LogitSoftcap.Apply(Logits.AsSpan(0, Rows * V));
                break;
            case LogitRows.Last:
                // Each sequence's last row, read with a stride of one sequence.
                if (Logits.Length == 0) Logits = Model.Pool.Rent(Batch * V);
                unembed.Apply(Final.AsSpan((Computed - 1) * d), Batch, Logits, V, ldx: Computed * d);
                Model.LogitSoftcap.Apply(Logits.AsSpan(0, Batch * V));
                break;
        }
    }

    public double[] MetricValues(IReadOnlyList<Metric> metrics)
    {
        CheckComplete(metrics);
        return MetricRows.Values(metrics, Batch, Tokens, Final, Model.Unembed.Weight, Model.Facts.DModel, First, Clean?.Final, Model.LogitSoftcap);
    }

    public float[] Backward(IReadOnlyList<Metric> metrics, HookPoint hook, PropagationRules rules)
    {
        CheckComplete(metrics);
        if (!Options.KeepForBackward) throw new InvalidOperationException("the forward pass did not keep its activations (RunOptions.KeepForBackward)");
        return Model.Backward(this, metrics, hook, rules);
    }

    public ComponentGradients ComponentBackward(IReadOnlyList<Metric> metrics, PropagationRules rules)
    {
        CheckComplete(metrics);
        if (!Options.KeepForBackward) throw new InvalidOperationException("the forward pass did not keep its activations (RunOptions.KeepForBackward)");
        var start = Start ?? new HookPoint(HookKind.ResidPre, 0);
        if (start.Kind != HookKind.ResidPre) throw new RelpSaeException($"component gradients need a pass started at a block's hook_resid_pre, not {start}");
        var record = new ComponentGradients(Model.Facts.NLayers);
        Model.Backward(this, metrics, start, rules, record);
        return record;
    }

    /// <summary>
    /// The gradient at the last residual (before the final norm) of Σ_b m_b: each metric's dm/dh at its
    /// row, through the logits' cap if the family has one and the final norm's backward, each as the pass's
    /// <paramref name="functions"/> resolved them (exact or a rule). The metric rows are returned too.
    /// </summary>
    internal (float[] Dx, int[] Rows) MetricGradient(IReadOnlyList<Metric> metrics, BackwardFunctions functions, float[] gamma)
    {
        var cap = Model.LogitSoftcap;
        int d = Model.Facts.DModel;
        var dx = new float[Rows * d];
        var dh = new float[d];
        var scratch = new float[d];
        var rows = new int[Batch];
        for (int b = 0; b < Batch; b++)
        {
            var metric = metrics[metrics.Count == 1 ? 0 : b];
            int row = rows[b] = b * Tokens + metric.ResolvePosition(Tokens);
            metric.Gradient(Final.AsSpan(row * d, d), Model.Unembed.Weight, dh, cap, functions.LogitCap);
            functions.Norm(dh, FinalHat.AsSpan(row * d, d), FinalRstd[row], gamma, dx.AsSpan(row * d, d), scratch);
        }
        return (dx, rows);
    }

    private void CheckComplete(IReadOnlyList<Metric> metrics)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!Completed) throw new InvalidOperationException("the forward pass stopped before the final layer");
        MetricRows.Check(metrics, Batch, Model.Facts.VocabSize);
    }
}
