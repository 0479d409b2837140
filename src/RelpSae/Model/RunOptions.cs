namespace RelpSae.Model;

/// <summary>Which logit rows a forward pass computes: none, each sequence's last position, or all positions.</summary>
public enum LogitRows { None, Last, All }

/// <summary>What a forward pass keeps: the activations the backward pass needs, hooked activations, logits.</summary>
public sealed record RunOptions
{
    /// <summary>Keep every block's intermediate activations so <see cref="Gpt2Run.Backward"/> can run.</summary>
    public bool KeepForBackward { get; init; }

    /// <summary>Hook points whose activations are copied into <see cref="Gpt2Run.Cache"/>.</summary>
    public IReadOnlyCollection<HookPoint> Cache { get; init; } = [];

    public LogitRows Logits { get; init; } = LogitRows.Last;

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
public sealed record CleanPrefix(ITransformerRun Clean, int Rows);

/// <summary>Rewrites a hook's activation [batch × tokens × width] in place as the forward pass reaches it.</summary>
public interface IActivationRewrite
{
    void Apply(HookPoint hook, float[] activation, int batch, int tokens);
}
