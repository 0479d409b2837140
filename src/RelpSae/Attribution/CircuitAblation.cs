using RelpSae.Model;

namespace RelpSae.Attribution;

/// <summary>
/// A batched forward pass of one prompt with a different circuit in each sequence. At each dictionary's site,
/// wherever a sequence ablates a node, its activation is re-split from the current (already ablated
/// upstream) value — f = encode(x), ε = x − decode(f); for a transcoder f = encode of the MLP's current input,
/// copied as the pass went by it, and ε = y − decode(f) of the MLP's current output y — and rebuilt as decode(f̃) + ε̃, every ablated
/// feature and error node set to its baseline value (the mean, zero, or the corrupted prompt's), the kept
/// ones as computed. Positions where nothing is ablated are left exactly as the model computes them, so
/// keeping every node reproduces the model bit for bit. The splices' feature interventions act first at each hook, so the
/// model kept whole is the intervened one.
/// </summary>
public sealed class CircuitAblation : IActivationRewrite
{
    private readonly MultiSaeSplice splices;
    private readonly CircuitNodes nodes;
    private readonly IReadOnlyList<bool[]?> kept;
    private readonly bool reconstructAll;
    private readonly Dictionary<HookPoint, int> hookIndex;
    /// <summary>The transcoders reading each hook, and the input each last read in this pass.</summary>
    private readonly ILookup<HookPoint, int> readers;
    private readonly float[]?[] inputs;

    /// <param name="kept">Per sequence, which nodes it keeps (null: the model untouched).</param>
    /// <param name="reconstructAll">Rebuild every position of every sequence from its split, ablated or not (the spliced model).</param>
    internal CircuitAblation(MultiSaeSplice splices, CircuitNodes nodes, IReadOnlyList<bool[]?> kept, bool reconstructAll)
    {
        this.splices = splices; this.nodes = nodes; this.kept = kept; this.reconstructAll = reconstructAll;
        hookIndex = splices.Saes.Select((s, i) => (s.Hook, i)).ToDictionary(p => p.Hook, p => p.i);
        readers = splices.Saes.Select((s, i) => (s, i)).Where(p => p.s.IsTranscoder).ToLookup(p => p.s.Input, p => p.i);
        inputs = new float[]?[splices.Saes.Count];
    }

    /// <summary>The metric of the prompt under each sequence's circuit, in one batched forward pass.</summary>
    public static double[] Metrics(ITransformer model, MultiSaeSplice splices, CircuitNodes nodes, IReadOnlyList<bool[]?> kept, Metric metric,
        bool reconstructAll = false) => Read(model, splices, nodes, kept, run => run.MetricValues(metric), reconstructAll);

    /// <summary>What <paramref name="read"/> takes from the finished pass (one value a sequence), each sequence ablating as it keeps.</summary>
    public static double[] Read(ITransformer model, MultiSaeSplice splices, CircuitNodes nodes, IReadOnlyList<bool[]?> kept, Func<ITransformerRun, double[]> read,
        bool reconstructAll = false)
    {
        foreach (var k in kept)
            if (k is not null && k.Length != nodes.Count) throw new ArgumentException($"a circuit mask of {k.Length} nodes for {nodes.Count}");
        int T = splices.Tokens.Length, batch = kept.Count;
        var rewrite = new CircuitAblation(splices, nodes, kept, reconstructAll);
        var (hook, first) = (splices.Saes[0].Hook, splices.Splices[0]);
        if (hook.IsResidual)
        {
            // Every sequence is the clean prompt up to the first site: start there from the clean activation
            // (rows do not depend on the batch, so this is the full pass bit for bit), ablate it here, and let
            // the pass skip that hook's rewrite whether or not it reaches it again. A transcoder reads its own
            // block's MLP input, never before the first site (it writes after it), so its input is read here or later.
            var activation = new float[batch * first.Clean.Length];
            for (int b = 0; b < batch; b++) first.Clean.CopyTo(activation, b * first.Clean.Length);
            rewrite.Ablate(hook, activation, batch, T); // the first site's clean activation holds its interventions already
            using var fromHook = model.ForwardFrom(hook, activation, batch, T, new RunOptions { Logits = LogitRows.None, Rewrite = rewrite.After(hook) });
            return read(fromHook);
        }
        var tokens = new int[batch * T];
        for (int b = 0; b < batch; b++) splices.Tokens.CopyTo(tokens, b * T);
        using var run = model.Forward(tokens, batch, new RunOptions { Logits = LogitRows.None, Rewrite = rewrite });
        return read(run);
    }

    /// <summary>This rewrite at every hook but <paramref name="done"/>, already applied.</summary>
    private IActivationRewrite After(HookPoint done) => new Skipping(this, done);

    private sealed class Skipping(IActivationRewrite inner, HookPoint done) : IActivationRewrite
    {
        public void Apply(HookPoint hook, float[] activation, int batch, int tokens)
        {
            if (hook != done) inner.Apply(hook, activation, batch, tokens);
        }
    }

    public void Apply(HookPoint hook, float[] activation, int batch, int tokens)
    {
        splices.Interventions?.Apply(hook, activation, batch, tokens);
        Ablate(hook, activation, batch, tokens);
    }

    private void Ablate(HookPoint hook, float[] activation, int batch, int tokens)
    {
        if (hookIndex.TryGetValue(hook, out int h)) Resplit(h, activation, batch, tokens);
        foreach (int reader in readers[hook])
        {
            int size = batch * tokens * splices.Splices[reader].Sae.DIn;
            if (inputs[reader]?.Length != size) inputs[reader] = new float[size];
            activation.AsSpan(0, size).CopyTo(inputs[reader]);
        }
    }

    private void Resplit(int h, float[] activation, int batch, int tokens)
    {
        var splice = splices.Splices[h];
        var sae = splice.Sae;
        int d = sae.DIn, n = sae.DSae;
        var encoded = splices.Saes[h].IsTranscoder
            ? inputs[h] ?? throw new InvalidOperationException($"the pass reached {splices.Saes[h].Hook} before the transcoder's input {splices.Saes[h].Input}")
            : activation;
        var features = sae.Encode(encoded.AsSpan(0, batch * tokens * d));
        var reconstruction = new float[d];
        var ablated = new float[n];
        for (int b = 0; b < batch; b++)
            for (int t = 0; t < tokens; t++)
            {
                var mask = kept[b];
                bool Keeps(int feature) => mask is null || mask[nodes.Index(h, feature, t)];
                bool keepError = Keeps(n), any = !keepError;
                for (int i = 0; i < n && !any; i++) any = !Keeps(i);
                if (!any && !reconstructAll) continue;

                int row = b * tokens + t;
                var x = activation.AsSpan(row * d, d);
                var f = features.AsSpan(row * n, n);
                for (int i = 0; i < n; i++) ablated[i] = Keeps(i) ? f[i] : splice.BaselineFeatures[t * n + i];
                if (keepError)
                {
                    sae.Decode(f, reconstruction);   // ε = x − decode(f), kept as computed
                    for (int j = 0; j < d; j++) x[j] -= reconstruction[j];
                }
                else splice.BaselineError.AsSpan(t * d, d).CopyTo(x);
                sae.Decode(ablated, reconstruction);
                for (int j = 0; j < d; j++) x[j] += reconstruction[j];
            }
    }
}
