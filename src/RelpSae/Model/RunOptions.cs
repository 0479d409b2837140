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
}

/// <summary>Rewrites a hook's activation [batch × tokens × width] in place as the forward pass reaches it.</summary>
public interface IActivationRewrite
{
    void Apply(HookPoint hook, float[] activation, int batch, int tokens);
}
