namespace RelpSae.Graphs;

/// <summary>
/// The true direct effects of removing each source on each target (<see cref="DirectEffects"/>): row-major
/// [sources × targets], each the target's clean value minus its value with the source removed (times
/// <see cref="Scale"/>) and every other node held; <see cref="Clean"/> holds each target's clean value.
/// </summary>
public sealed class DirectEffectMatrix(IReadOnlyList<EdgeSource> sources, IReadOnlyList<EdgeTarget> targets, float scale, double[] clean, double[] values)
{
    public IReadOnlyList<EdgeSource> Sources { get; } = sources;
    public IReadOnlyList<EdgeTarget> Targets { get; } = targets;
    /// <summary>The fraction of each source's vector removed: 1 removes the node, a small one measures the slope.</summary>
    public float Scale { get; } = scale;
    public double[] Clean { get; } = clean;
    public double[] Values { get; } = values;

    public double this[int source, int target] => Values[source * Targets.Count + target];
}
