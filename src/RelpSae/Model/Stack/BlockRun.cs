using RelpSae.Lrp;

namespace RelpSae.Model;

/// <summary>
/// One forward pass of a <see cref="StackedTransformer{TLayer}"/>: the residual stream, each block's kept
/// activations (<typeparamref name="TLayer"/>, the family's own), the scratch every block shares, cached hooks,
/// the final norm's rows and the logits. Rows are laid out [batch × tokens]. Every buffer comes from the model's
/// pool: disposing the run gives them back for the next pass of the same shape (a fresh array costs its page
/// faults every pass), so copy what must outlive it. A run never disposed is simply collected.
/// </summary>
public sealed class BlockRun<TLayer> : ITransformerRun where TLayer : BlockActivations
{
    private readonly HookRecorder hooks;
    private readonly TLayer[] layers;
    private readonly CleanPrefixAttention? prefixAttention;
    private PooledBuffers? backwardWork;

    /// <summary>Positions of each sequence read after the pass (<see cref="RunOptions.OutputPositions"/>, resolved, sorted); null: every one.</summary>
    private readonly int[]? outputPositions;

    /// <summary>The rows the last block computes past its attention pattern, and the final norm: see <see cref="RowsPastAttention"/>.</summary>
    private readonly RowSet tail;

    internal BlockRun(StackedTransformer<TLayer> model, int batch, int tokens, HookPoint? start, RunOptions options)
    {
        Model = model;
        Batch = batch;
        Tokens = tokens;
        Start = start;
        Options = options;
        var facts = model.Facts;
        if (options.Prefix is { } prefix)
        {
            Clean = prefix.Checked<BlockRun<TLayer>>(start, options, tokens, clean => clean.Model == model && clean.Options.KeepForBackward && clean.First == 0);
            First = prefix.Rows;
            if (First > 0) prefixAttention = new CleanPrefixAttention(model.Pool, batch, tokens, First, facts.NHeads, facts.DHead);
        }
        int n = Rows, d = facts.DModel;
        foreach (var patch in options.Patches) patch.Validate(facts.Width(patch.Hook, tokens), batch * tokens);
        hooks = new HookRecorder(CleanPrefix.ToComputedRows(options, tokens, First), batch, Computed, hook => facts.Width(hook, tokens));
        outputPositions = OutputPositionsOf(options, tokens);
        tail = TailRows();
        var pool = model.Pool;
        Residual = pool.Rent(n * d);
        Final = pool.Rent(n * d);
        FinalHat = pool.Rent(n * d);
        FinalRstd = pool.Rent(n);
        Normed = pool.Rent(n * d);
        Z = pool.Rent(n * facts.NHeads * facts.DHead);
        Out = pool.Rent(n * d);
        // Without a backward pass one set of block buffers serves every layer in turn.
        layers = options.KeepForBackward
            ? Enumerable.Range(0, facts.NLayers).Select(_ => model.NewLayer(batch, Computed, First)).ToArray()
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
    /// <summary>The hook the pass started from (null: from token ids).</summary>
    public HookPoint? Start { get; }
    public RunOptions Options { get; }

    /// <summary>The residual stream: after the pass, the last block's output [rows × d].</summary>
    public float[] Residual { get; private set; }

    /// <summary>The final norm's output [rows × d] (the rows the unembedding reads).</summary>
    public float[] Final { get; private set; }

    /// <summary>Logits [rows × V] (All), [batch × V] (Last), or empty (None).</summary>
    public float[] Logits { get; private set; } = [];

    /// <summary>True when the last pass ran to the end (not stopped by <see cref="RunOptions.StopAfter"/>).</summary>
    public bool Completed { get; private set; }
    public IReadOnlyDictionary<string, float[]> Cache => hooks.ByName;

    /// <summary>The final norm's x̂ and 1/σ (or 1/rms), for the backward pass.</summary>
    internal float[] FinalHat { get; private set; }
    internal float[] FinalRstd { get; private set; }

    /// <summary>Scratch every block shares, since no backward reads it: a norm's output [rows × d], attention's z [rows × heads·d_head], a branch's output [rows × d].</summary>
    internal float[] Normed { get; private set; }
    internal float[] Z { get; private set; }
    internal float[] Out { get; private set; }

    internal TLayer Layer(int l) => layers[layers.Length == 1 ? 0 : l];

    /// <summary>
    /// The rows block <paramref name="l"/> computes past its attention pattern (keys and values are needed at every row):
    /// in the last block, only those of the output positions when fewer than all are read, no logits of every row are
    /// asked for and nothing acts at a hook from its hook_attn_out to ln_final; else every row.
    /// </summary>
    internal RowSet RowsPastAttention(int l) => l == Model.Facts.NLayers - 1 ? tail : RowSet.All(Rows);

    private RowSet TailRows()
    {
        int last = Model.Facts.NLayers - 1;
        bool quiet = new[] { HookKind.AttnOut, HookKind.ResidMid, HookKind.MlpResidualIn, HookKind.Ln2Normalized, HookKind.MlpHookIn, HookKind.MlpPost, HookKind.MlpHookOut, HookKind.MlpOut, HookKind.ResidPost }.All(k => hooks.Quiet(new HookPoint(k, last)))
            && hooks.Quiet(new HookPoint(HookKind.LnFinal, Model.Facts.NLayers));
        if (outputPositions is null || First > 0 || Options.Logits == LogitRows.All || !quiet) return RowSet.All(Rows);
        var rows = new int[Batch * outputPositions.Length];
        for (int b = 0, i = 0; b < Batch; b++)
            foreach (int p in outputPositions) rows[i++] = b * Tokens + p;
        return RowSet.Of(rows);
    }

    /// <summary>The positions asked for plus the last one when its logits are, resolved; null when every position is read anyway.</summary>
    private static int[]? OutputPositionsOf(RunOptions options, int tokens)
    {
        if (options.OutputPositions is not { } asked) return null;
        var positions = new SortedSet<int>(asked.Select(p => p < 0 ? tokens + p : p));
        if (positions.Any(p => p < 0 || p >= tokens))
            throw new RelpSaeException($"output positions {string.Join(", ", asked)} are not all inside a prompt of {tokens} tokens");
        if (options.Logits == LogitRows.Last) positions.Add(tokens - 1);
        return positions.Count < tokens ? [.. positions] : null;
    }

    /// <summary>
    /// Attention of block <paramref name="l"/>: its fused Q | K | V rows into its pattern and <see cref="Z"/>, with their
    /// hooks; false once StopAfter is reached. Over every row, or, after a reused prefix, on the full pass's shapes from
    /// the clean run's rows (<see cref="CleanPrefixAttention"/>), so that the computed rows get the full pass's bits.
    /// </summary>
    internal bool Attend(int l)
    {
        var s = Layer(l);
        if (prefixAttention is not null) prefixAttention.Forward(Clean!.Layer(l).Qkv, s.Qkv, s.Pattern, Z, Model.Scores[l]);
        else AttentionHeads.Forward(s.Qkv, s.Pattern, Z, Batch, Tokens, Model.Facts.NHeads, Model.Facts.DHead, scores: Model.Scores[l]);
        return Hook(HookKind.AttnPattern, l, s.Pattern) && Hook(HookKind.AttnZ, l, Z);
    }

    /// <summary>A branch's output added into the residual rows: its hook, the add, the residual's hook; false once StopAfter is reached.</summary>
    internal bool AddBranch(int l, RowSet rows, float[] output, HookKind outputHook, HookKind residualHook)
    {
        if (!Hook(outputHook, l, output)) return false;
        RowSteps.Add(rows, Model.Facts.DModel, Residual, output);
        return Hook(residualHook, l, Residual);
    }

    public float[] Cached(HookPoint hook) => hooks.Cached(hook);

    /// <summary>
    /// Block l's hook_mlp_in, before the MLP's norm: the residual rows the branch reads, or, when a patch or rewrite may
    /// write the hook, a copy of them in <see cref="Out"/> (free until the branch's output), so that only the branch's
    /// input changes, as in TransformerLens, where the hook holds a clone. Null once StopAfter is reached.
    /// </summary>
    internal float[]? MlpResidualIn(int l, RowSet rows)
    {
        var hook = new HookPoint(HookKind.MlpResidualIn, l);
        var input = Residual;
        if (hooks.MayWrite(hook))
        {
            int d = Model.Facts.DModel;
            rows.For(d, (r, _, k) => Residual.AsSpan(r * d, k * d).CopyTo(Out.AsSpan(r * d, k * d)));
            input = Out;
        }
        return Hook(hook, input) ? input : null;
    }

    /// <summary>
    /// Block l's hooks after the MLP's norm filled x̂ (<paramref name="hat"/>) and <see cref="Normed"/> = x̂⊙γ (+ β):
    /// ln2.hook_normalized on x̂, then mlp.hook_in on the norm's output, which is formed again from x̂ when a patch or
    /// rewrite may have written it. False once StopAfter is reached.
    /// </summary>
    internal bool MlpNormHooks(int l, RowSet rows, float[] hat, float[] gamma, float[]? beta)
    {
        var normalized = new HookPoint(HookKind.Ln2Normalized, l);
        if (!Hook(normalized, hat)) return false;
        if (hooks.MayWrite(normalized)) RowSteps.Rescale(rows, hat, Normed, gamma, beta);
        return Hook(HookKind.MlpHookIn, l, Normed);
    }

    /// <summary>A backward pass's work buffers, made on its first call and kept for the next.</summary>
    internal TWork BackwardWork<TWork>(Func<Numerics.FloatPool, TWork> create) where TWork : PooledBuffers =>
        (TWork)(backwardWork ??= create(Model.Pool));

    /// <summary>Gives every buffer back to the model's pool; the run (and the arrays it exposed) must not be used after.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        var pool = Model.Pool;
        foreach (var a in new[] { Residual, Final, FinalHat, FinalRstd, Normed, Z, Out, Logits }) pool.Return(a);
        foreach (var layer in layers) layer.ReturnTo(pool);
        backwardWork?.ReturnTo(pool);
        prefixAttention?.Dispose();
        Residual = Final = FinalHat = FinalRstd = Normed = Z = Out = Logits = [];
        Completed = false;
    }

    private bool disposed;

    /// <summary>
    /// Runs this pass again from its start hook with a new activation [rows × d], reusing every buffer:
    /// patching and integrated gradients call this many times. <see cref="Residual"/>, <see cref="Final"/>,
    /// <see cref="Logits"/> and the kept activations are overwritten; cached hook activations are fresh copies.
    /// </summary>
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

    internal bool Wants(HookPoint hook) => hooks.Wants(hook);

    /// <summary>Called by the forward pass at each hook point: applies its patches, copies the activation if asked; false to stop.</summary>
    internal bool Hook(HookPoint hook, float[] activation) => hooks.Hook(hook, activation);

    internal bool Hook(HookKind kind, int layer, float[] activation) => hooks.Hook(new HookPoint(kind, layer), activation);

    /// <summary>After the final norm has filled <see cref="Final"/>: its hook and the logits asked for.</summary>
    internal void Finish()
    {
        Hook(new HookPoint(HookKind.LnFinal, Model.Facts.NLayers), Final);
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
                // Each sequence's last row, read with a stride of one sequence; the same packed product
                // as All, so the last row of All is bit for bit the same.
                if (Logits.Length == 0) Logits = Model.Pool.Rent(Batch * V);
                unembed.Apply(Final.AsSpan((Computed - 1) * d), Batch, Logits, V, ldx: Computed * d);
                Model.LogitSoftcap.Apply(Logits.AsSpan(0, Batch * V));
                break;
        }
    }

    /// <summary>The metric of each sequence (one metric for all, or one per sequence).</summary>
    public double[] MetricValues(IReadOnlyList<Metric> metrics)
    {
        CheckComplete(metrics);
        return MetricRows.Values(metrics, Batch, Tokens, Final, Model.Unembed, Model.Facts.DModel, First, Clean?.Final, Model.LogitSoftcap);
    }

    public double[] MetricValues(Metric metric) => MetricValues([metric]);

    /// <summary>
    /// d(Σ_b m_b)/d(activation at <paramref name="hook"/>) [rows × d], by the exact gradient or with
    /// propagation rules. Needs <see cref="RunOptions.KeepForBackward"/>; the hook must be a residual
    /// hook (or hook_attn_out / hook_mlp_out) at or after the pass's start.
    /// </summary>
    public float[] Backward(IReadOnlyList<Metric> metrics, HookPoint hook, PropagationRules rules)
    {
        CheckComplete(metrics);
        if (!Options.KeepForBackward) throw new InvalidOperationException("the forward pass did not keep its activations (RunOptions.KeepForBackward)");
        return Model.Backward(this, metrics, hook, rules);
    }

    public float[] Backward(Metric metric, HookPoint hook, PropagationRules rules) => Backward([metric], hook, rules);

    /// <summary>
    /// One backward pass from the metric (summed over sequences) down to the pass's start, recording the
    /// coefficient at every component hook it passes: hook_mlp_out, hook_attn_out, attn.hook_z and
    /// hook_resid_pre of each block from the start on. A pass started at blocks.L.hook_resid_pre (or from
    /// token ids, L = 0) records blocks L and later.
    /// </summary>
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
    /// One backward pass seeded by vectors, one sequence each (<see cref="GradientSeed"/>), down to the embeddings, recording
    /// into <paramref name="record"/> the coefficient at every component it passes (reused from pass to pass; a block above
    /// the highest seed keeps what an earlier pass left); <paramref name="skips"/>: transcoders' skip connections, the
    /// only path through an MLP that the rules cut; <paramref name="cut"/>: the hook_resid_post hooks where the pass stops.
    /// </summary>
    public void SeededBackward(IReadOnlyList<GradientSeed> seeds, PropagationRules rules, ComponentGradients record, IReadOnlyList<MlpSkip> skips, ResidualCut? cut = null)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!Completed || !Options.KeepForBackward || Start is not null || First > 0)
            throw new InvalidOperationException("a seeded backward pass needs a complete pass from token ids that kept its activations");
        Model.SeededBackward(this, seeds, rules, record, skips, cut);
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
        // Cleared here, so that each fresh page is first written: the passes first read it (dx += …), which maps the zero
        // page, then fault again on the write, with a TLB shootdown to the other core. On a Xeon: 1560 page faults per 8×128
        // pass → 830; both ways in one process, the 2-thread 8×128 and 1×512 RelP backward 0.985 and 0.984 of the time
        // (1×128 0.997: 384 KB).
        var dx = GC.AllocateUninitializedArray<float>(Rows * d);
        dx.AsSpan().Clear();
        var dh = new float[d];
        var scratch = new float[d];
        var rows = new int[Batch];
        for (int b = 0; b < Batch; b++)
        {
            var metric = metrics[metrics.Count == 1 ? 0 : b];
            int row = rows[b] = b * Tokens + metric.ResolvePosition(Tokens);
            metric.Gradient(Final.AsSpan(row * d, d), Model.Unembed, dh, cap, functions.LogitCap);
            functions.Norm(dh, FinalHat.AsSpan(row * d, d), FinalRstd[row], gamma, dx.AsSpan(row * d, d), scratch);
        }
        return (dx, rows);
    }

    private void CheckComplete(IReadOnlyList<Metric> metrics)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!Completed) throw new InvalidOperationException("the forward pass stopped before the final layer");
        MetricRows.Check(metrics, Batch, Model.Facts.VocabSize);
        if (outputPositions is not null && metrics.FirstOrDefault(m => Array.BinarySearch(outputPositions, m.ResolvePosition(Tokens)) < 0) is { } missing)
            throw new ArgumentException($"metric position {missing.Position} is not among the pass's output positions ({string.Join(", ", outputPositions)})");
    }
}
