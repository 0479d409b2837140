namespace RelpSae.Model;

/// <summary>
/// The hook points of one forward pass, for every family: the patches of <see cref="RunOptions.Patches"/>
/// written into the activation as the pass reaches their hook, then <see cref="RunOptions.Rewrite"/>, copies of the activations that
/// <see cref="RunOptions.Cache"/> asks for, and the stop once <see cref="RunOptions.StopAfter"/> is reached.
/// </summary>
internal sealed class HookRecorder(RunOptions options, int batch, int tokens, Func<HookPoint, int> width)
{
    private readonly Dictionary<HookPoint, float[]> cache = [];
    private readonly ILookup<HookPoint, ActivationPatch> patches = options.Patches.ToLookup(p => p.Hook);
    private bool stopped;

    public IReadOnlyDictionary<string, float[]> ByName => cache.ToDictionary(p => p.Key.Name, p => p.Value);

    public float[] Cached(HookPoint hook) =>
        cache.TryGetValue(hook, out var a) ? a : throw new InvalidOperationException($"{hook} was not cached");

    public bool Wants(HookPoint hook) => options.Cache.Contains(hook);

    /// <summary>True when nothing — patch, rewrite, cache or stop — acts at <paramref name="hook"/>: a pass may skip rows there.</summary>
    public bool Quiet(HookPoint hook) => !patches.Contains(hook) && options.Rewrite is null && !Wants(hook) && options.StopAfter != hook;

    /// <summary>True when a patch or the rewrite may change the activation at <paramref name="hook"/>.</summary>
    public bool MayWrite(HookPoint hook) => patches.Contains(hook) || options.Rewrite is not null;

    /// <summary>Called by the forward pass at each hook point: applies its patches and rewrite, copies the activation if asked; false to stop.</summary>
    public bool Hook(HookPoint hook, float[] activation)
    {
        foreach (var patch in patches[hook]) patch.Apply(activation, width(hook));
        options.Rewrite?.Apply(hook, activation, batch, tokens);
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
