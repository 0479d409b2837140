using RelpSae.Lrp;

namespace RelpSae.Model;

/// <summary>
/// One forward pass: the residual stream, the cached hook activations, the final hidden rows, the logits
/// asked for, and (when kept) what the backward pass needs. Rows are laid out [batch × tokens].
/// Its buffers come from the model's pool: disposing the run gives them back for the next pass of the
/// same shape (the arrays it exposed — <see cref="Residual"/>, <see cref="Final"/>, <see cref="Logits"/> —
/// are then reused, so copy what must outlive it). A run never disposed is simply collected.
/// </summary>
public sealed class Gpt2Run : ITransformerRun
{
    private readonly LayerActivations[] layers;
    private readonly HookRecorder hooks;
    private Gpt2Backward.Buffers? backwardBuffers;
    private readonly CleanPrefixAttention? prefixAttention;

    internal Gpt2Run(Gpt2 model, int batch, int tokens, HookPoint? start, RunOptions options)
    {
        Model = model;
        Batch = batch;
        Tokens = tokens;
        Start = start;
        Options = options;
        var c = model.Config;
        if (options.Prefix is { } prefix)
        {
            Clean = prefix.Checked<Gpt2Run>(start, options, tokens, clean => clean.Model == model && clean.Options.KeepForBackward && clean.First == 0);
            First = prefix.Rows;
            if (First > 0) prefixAttention = new CleanPrefixAttention(model.Pool, batch, tokens, First, c.NHeads, c.DHead);
        }
        int n = Rows, ts = Computed;
        foreach (var patch in options.Patches) patch.Validate(patch.Hook.Width(c, tokens), batch * tokens);
        hooks = new HookRecorder(CleanPrefix.ToComputedRows(options, tokens, First), batch, ts, hook => hook.Width(c, tokens));
        outputPositions = OutputPositionsOf(options, tokens);
        tailRows = TailRowsOf(c);
        var pool = model.Pool;
        Residual = pool.Rent(n * c.DModel);
        LnOut = pool.Rent(n * c.DModel);
        Z = pool.Rent(n * c.DModel);
        Out = pool.Rent(n * c.DModel);
        // Without a backward pass one set of block buffers serves every layer in turn.
        layers = options.KeepForBackward
            ? Enumerable.Range(0, c.NLayers).Select(_ => new LayerActivations(c, batch, ts, pool, First)).ToArray()
            : [new LayerActivations(c, batch, ts, pool, First)];
    }

    /// <summary>Gives every buffer back to the model's pool; the run (and the arrays it exposed) must not be used after.</summary>
    public void Dispose()
    {
        if (disposed) return;
        disposed = true;
        var pool = Model.Pool;
        foreach (var a in new[] { Residual, LnOut, Z, Out, Final, FinalHat, FinalRstd, Logits }) pool.Return(a);
        foreach (var layer in layers) layer.ReturnTo(pool);
        backwardBuffers?.ReturnTo(pool);
        prefixAttention?.Dispose();
        Residual = LnOut = Z = Out = Final = FinalHat = FinalRstd = Logits = [];
        Completed = false;
    }

    private bool disposed;

    public Gpt2 Model { get; }
    public int Batch { get; }
    public int Tokens { get; }
    /// <summary>The rows this pass computes, [batch × <see cref="Computed"/>]: all of them unless it reuses a clean prefix.</summary>
    public int Rows => Batch * Computed;

    /// <summary>Rows of each sequence taken from <see cref="RunOptions.Prefix"/>'s clean run (0 without one).</summary>
    public int First { get; }

    /// <summary>Rows computed per sequence, positions <see cref="First"/>.. of each.</summary>
    public int Computed => Tokens - First;

    internal Gpt2Run? Clean { get; }
    /// <summary>The hook the pass started from (null: from token ids).</summary>
    public HookPoint? Start { get; }
    public RunOptions Options { get; }

    /// <summary>The residual stream: after the pass, the last block's output [rows × d].</summary>
    public float[] Residual { get; private set; }

    /// <summary>ln_f's output [rows × d] (the rows the unembedding reads); empty until a pass reaches the end.</summary>
    public float[] Final { get; private set; } = [];

    /// <summary>True when the last pass ran to the end (not stopped by <see cref="RunOptions.StopAfter"/>).</summary>
    public bool Completed { get; private set; }

    /// <summary>Logits [batch × tokens × V] (All), [batch × V] (Last), or empty (None).</summary>
    public float[] Logits { get; private set; } = [];

    /// <summary>The activations of the hook points asked for in <see cref="RunOptions.Cache"/>, by name.</summary>
    public IReadOnlyDictionary<string, float[]> Cache => hooks.ByName;

    public float[] Cached(HookPoint hook) => hooks.Cached(hook);

    internal float[] LnOut { get; private set; }
    internal float[] Z { get; private set; }
    internal float[] Out { get; private set; }
    internal float[] FinalHat { get; private set; } = [];
    internal float[] FinalRstd { get; private set; } = [];

    /// <summary>
    /// Runs this pass again from its start hook with a new activation [rows × d], reusing every buffer:
    /// patching and integrated gradients call this many times. <see cref="Residual"/>, <see cref="Final"/>,
    /// <see cref="Logits"/> and the kept activations are overwritten; cached hook activations are fresh copies.
    /// </summary>
    public Gpt2Run Rerun(ReadOnlySpan<float> activation)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (Start is not { } start) throw new InvalidOperationException("only a pass started from a hook (Gpt2.ForwardFrom) can be re-run");
        Model.RunFrom(this, start, activation);
        return this;
    }

    ITransformerRun ITransformerRun.Rerun(ReadOnlySpan<float> activation) => Rerun(activation);

    internal void Reset()
    {
        hooks.Reset();
        Completed = false;
    }

    internal Gpt2Backward.Buffers BackwardBuffers => backwardBuffers ??= new Gpt2Backward.Buffers(Rows, Model.Config, Model.Pool);

    internal LayerActivations Layer(int l) => layers[layers.Length == 1 ? 0 : l];

    /// <summary>
    /// Attention of the computed rows' fused Q | K | V rows into their pattern and z: over every row, or, after a
    /// reused prefix, on the full pass's shapes from the clean run's rows <paramref name="cleanQkv"/>
    /// (<see cref="CleanPrefixAttention"/>), so that the computed rows get the full pass's bits.
    /// </summary>
    internal void Attention(float[]? cleanQkv, float[] qkv, float[] pattern, float[] z)
    {
        if (prefixAttention is not null) prefixAttention.Forward(cleanQkv!, qkv, pattern, z);
        else AttentionHeads.Forward(qkv, pattern, z, Batch, Tokens, Model.Config.NHeads, Model.Config.DHead);
    }

    /// <summary>Positions of each sequence read after the pass (<see cref="RunOptions.OutputPositions"/>, resolved, sorted); null: every one.</summary>
    private readonly int[]? outputPositions;

    /// <summary>
    /// The rows [batch × tokens] the last block computes past its attention pattern, and ln_f: those of the output
    /// positions when fewer rows than all are read, no logits of every row are asked for and nothing is hooked
    /// from the last hook_attn_out to ln_final; else null (every row).
    /// </summary>
    private readonly int[]? tailRows;

    internal int[]? TailRows(int l) => l == Model.Config.NLayers - 1 ? tailRows : null;

    private int[]? TailRowsOf(Gpt2Config c)
    {
        int last = c.NLayers - 1;
        bool quiet = new[] { HookKind.AttnOut, HookKind.ResidMid, HookKind.MlpPost, HookKind.MlpOut, HookKind.ResidPost }.All(k => hooks.Quiet(new HookPoint(k, last)))
            && hooks.Quiet(new HookPoint(HookKind.LnFinal, c.NLayers));
        if (outputPositions is null || First > 0 || Options.Logits == LogitRows.All || !quiet) return null;
        var rows = new int[Batch * outputPositions.Length];
        for (int b = 0, i = 0; b < Batch; b++)
            foreach (int p in outputPositions) rows[i++] = b * Tokens + p;
        return rows;
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

    internal bool Wants(HookPoint hook) => hooks.Wants(hook);

    /// <summary>Called by the forward pass at each hook point: applies its patches, copies the activation if asked; false to stop.</summary>
    internal bool Hook(HookPoint hook, float[] activation) => hooks.Hook(hook, activation);

    /// <summary>ln_f and the logits asked for.</summary>
    internal void Finish()
    {
        var c = Model.Config;
        var w = Model.Weights;
        int d = c.DModel, V = c.VocabSize;
        if (Final.Length == 0)
        {
            FinalHat = Model.Pool.Rent(Rows * d);
            FinalRstd = Model.Pool.Rent(Rows);
            Final = Model.Pool.Rent(Rows * d);
        }
        if (tailRows is not null)
            foreach (int r in tailRows)
                LayerNorm.Forward(Residual.AsSpan(r * d, d), FinalHat.AsSpan(r * d, d), FinalRstd.AsSpan(r, 1), Final.AsSpan(r * d, d),
                    w.LnFGamma, w.LnFBeta, 1, c.LayerNormEps);
        else LayerNorm.ForwardInBands(Residual, FinalHat, FinalRstd, Final, w.LnFGamma, w.LnFBeta, Rows, c.LayerNormEps);
        Hook(new HookPoint(HookKind.LnFinal, c.NLayers), Final);
        Completed = true;
        switch (Options.Logits)
        {
            case LogitRows.All:
                if (Logits.Length == 0) Logits = Model.Pool.Rent(Rows * V);
                Numerics.Gemm.Multiply(Rows, Final, d, false, w.Packed.Unembed, Logits, V);
                break;
            case LogitRows.Last:
                // Each sequence's last row, read with a stride of one sequence; the same packed product
                // as All, so the last row of All is bit for bit the same.
                if (Logits.Length == 0) Logits = Model.Pool.Rent(Batch * V);
                Numerics.Gemm.Multiply(Batch, Final.AsSpan((Computed - 1) * d), Computed * d, false, w.Packed.Unembed, Logits, V);
                break;
        }
    }

    /// <summary>The metric of each sequence (one metric for all, or one per sequence).</summary>
    public double[] MetricValues(IReadOnlyList<Metric> metrics)
    {
        CheckComplete(metrics);
        return MetricRows.Values(metrics, Batch, Tokens, Final, Model.Weights.Unembed, Model.Config.DModel, First, Clean?.Final);
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
        return Gpt2Backward.Run(this, metrics, hook, rules);
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
        var record = new ComponentGradients(Model.Config.NLayers);
        Gpt2Backward.Run(this, metrics, start, rules, record);
        return record;
    }

    private void CheckComplete(IReadOnlyList<Metric> metrics)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!Completed) throw new InvalidOperationException("the forward pass stopped before the final layer");
        MetricRows.Check(metrics, Batch, Model.Config.VocabSize);
        if (outputPositions is not null && metrics.FirstOrDefault(m => Array.BinarySearch(outputPositions, m.ResolvePosition(Tokens)) < 0) is { } missing)
            throw new ArgumentException($"metric position {missing.Position} is not among the pass's output positions ({string.Join(", ", outputPositions)})");
    }
}
