namespace RelpSae.Model;

/// <summary>Which logit rows a forward pass computes: none, each sequence's last position, or all positions.</summary>
public enum LogitRows { None, Last, All }

/// <summary>What a forward pass keeps: the activations the backward pass needs, hooked activations, logits.</summary>
public sealed record RunOptions
{
    /// <summary>Keep every block's intermediate activations so <see cref="ITransformerRun.Backward(IReadOnlyList{Metric}, HookPoint, Lrp.PropagationRules)"/> can run.</summary>
    public bool KeepForBackward { get; init; }

    /// <summary>Hook points whose activations are copied into <see cref="ITransformerRun.Cache"/>.</summary>
    public IReadOnlyCollection<HookPoint> Cache { get; init; } = [];

    public LogitRows Logits { get; init; } = LogitRows.Last;

    /// <summary>
    /// The positions of each sequence whose final rows will be read (metrics, their backward; negative
    /// counts from the end, as <see cref="Metric.Position"/>), when not every row is: the last block then runs
    /// past its attention pattern (keys and values are needed everywhere) on these rows alone, unless logits of
    /// every row or a hook in that stretch asks for more. The rows it computes are those of the full pass, bit
    /// for bit; the last block's other rows, and <see cref="ITransformerRun.Final"/>'s, are not computed. null: every row.
    /// </summary>
    public IReadOnlyList<int>? OutputPositions { get; init; }

    /// <summary>Stop as soon as this hook point has been computed (activation caching needs no more).</summary>
    public HookPoint? StopAfter { get; init; }

    /// <summary>Values written into hook activations as the pass reaches them (activation patching).</summary>
    public IReadOnlyList<ActivationPatch> Patches { get; init; } = [];

    /// <summary>Computed in place at each hook after the patches (SAE circuits: encode, ablate, decode).</summary>
    public IActivationRewrite? Rewrite { get; init; }

    /// <summary>
    /// Rows the pass may take from a clean run instead of computing them (<see cref="CleanPrefix"/>); a
    /// family that cannot reuse them computes every row, with the same result.
    /// </summary>
    public CleanPrefix? Prefix { get; init; }
}

/// <summary>
/// Attention is causal, so rows before the first position a patch changes are the same in every block
/// as in the clean run: a pass given this computes only rows <see cref="Rows"/>.. of each sequence, their
/// queries attending to <see cref="Clean"/>'s keys and values for the rows before. <see cref="Clean"/> is
/// a one-sequence pass of the same prompt, started at or before this pass's start, that kept its
/// activations (<see cref="RunOptions.KeepForBackward"/>); every sequence of the pass must equal it
/// before row <see cref="Rows"/>. Patches name rows of the whole [batch × tokens] layout, none before
/// <see cref="Rows"/>; cached activations hold the computed rows only, [batch × (tokens − Rows)].
/// </summary>
public sealed record CleanPrefix(ITransformerRun Clean, int Rows)
{
    /// <summary>
    /// The rows to reuse before a first changed row, rounded down to a multiple of 8: patching's passes
    /// then come in few shapes, whose buffers the model keeps, at the cost of up to 7 recomputed rows.
    /// </summary>
    public static int Reusable(int firstChanged) => firstChanged & ~7;

    /// <summary>
    /// The clean run, checked against a pass of <paramref name="tokens"/> tokens from <paramref name="start"/>
    /// (<paramref name="usable"/>: of the same model, kept for the backward, itself computing every row).
    /// </summary>
    internal TRun Checked<TRun>(HookPoint? start, RunOptions options, int tokens, Func<TRun, bool> usable) where TRun : class, ITransformerRun
    {
        if (Clean is not TRun clean || !usable(clean) || clean.Batch != 1 || clean.Tokens != tokens || !clean.Completed)
            throw new ArgumentException($"a clean prefix must be a finished one-sequence pass of {tokens} tokens of this model that kept its activations");
        if (start is not { } from) throw new ArgumentException("a pass from token ids cannot reuse a clean prefix: start it from a residual hook");
        if (clean.Start is { } cleanStart && cleanStart.Restart.CompareTo(from.Restart) > 0)
            throw new ArgumentException($"the clean prefix's pass started at {cleanStart}, after this pass's start {from}");
        if (options.KeepForBackward || options.Rewrite is not null)
            throw new ArgumentException("a pass reusing a clean prefix keeps no activations for the backward pass and takes no rewrite");
        if (Rows < 0 || Rows >= tokens) throw new ArgumentException($"a clean prefix of {Rows} rows for sequences of {tokens}");
        return clean;
    }

    /// <summary>The patches' rows in the layout of the computed rows, [batch × (tokens − first)].</summary>
    internal static RunOptions ToComputedRows(RunOptions options, int tokens, int first) => first == 0 ? options : options with
    {
        Patches = options.Patches.Select(patch =>
        {
            int b = patch.Row / tokens, t = patch.Row % tokens;
            if (t < first) throw new ArgumentException($"a patch of {patch.Hook} at position {t} falls in the clean prefix of {first} rows");
            return patch with { Row = b * (tokens - first) + t - first };
        }).ToArray(),
    };

    /// <summary>Rows <paramref name="first"/>.. of each sequence of <paramref name="activation"/> [batch × tokens × d] into <paramref name="computed"/>.</summary>
    internal static void CopyComputedRows(ReadOnlySpan<float> activation, Span<float> computed, int batch, int tokens, int first, int d)
    {
        if (activation.Length != batch * tokens * d)
            throw new ArgumentException($"activation has {activation.Length} values; {batch}×{tokens}×{d} expected");
        int rows = tokens - first;
        for (int b = 0; b < batch; b++)
            activation.Slice((b * tokens + first) * d, rows * d).CopyTo(computed.Slice(b * rows * d, rows * d));
    }
}

/// <summary>Rewrites a hook's activation [batch × tokens × width] in place as the forward pass reaches it.</summary>
public interface IActivationRewrite
{
    void Apply(HookPoint hook, float[] activation, int batch, int tokens);
}
