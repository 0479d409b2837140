namespace RelpSae.Model;

/// <summary>
/// The hook points of one forward pass, for every family: copies of the activations that
/// <see cref="RunOptions.Cache"/> asks for, and the stop once <see cref="RunOptions.StopAfter"/> is reached.
/// </summary>
internal sealed class HookRecorder(RunOptions options)
{
    private readonly Dictionary<HookPoint, float[]> cache = [];
    private bool stopped;

    public IReadOnlyDictionary<string, float[]> ByName => cache.ToDictionary(p => p.Key.Name, p => p.Value);

    public float[] Cached(HookPoint hook) =>
        cache.TryGetValue(hook, out var a) ? a : throw new InvalidOperationException($"{hook} was not cached");

    public bool Wants(HookPoint hook) => options.Cache.Contains(hook);

    /// <summary>Called by the forward pass at each hook point: copies the activation if asked; false to stop.</summary>
    public bool Hook(HookPoint hook, float[] activation)
    {
        if (Wants(hook)) cache[hook] = (float[])activation.Clone();
        if (options.StopAfter == hook) stopped = true;
        return !stopped;
    }

    /// <summary>Before a pass is run again: nothing cached, not stopped.</summary>
    public void Reset()
    {
        stopped = false;
        cache.Clear();
    }
}
