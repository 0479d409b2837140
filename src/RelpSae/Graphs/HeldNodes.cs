using System.Numerics.Tensors;
using RelpSae.Attribution;
using RelpSae.Model;

namespace RelpSae.Graphs;

/// <summary>
/// The rewrite of one measuring pass, each sequence removing at most one source: the MLPs cut (<see cref="CutMlps"/>:
/// held at their clean outputs) so no effect runs through another feature or error node, while attention and norms
/// compute from what reaches them; a sequence's source is subtracted (times the scale) at its hook and position;
/// feature targets are read from each input hook as it passes.
/// </summary>
internal sealed class HeldNodes : IActivationRewrite
{
    private readonly CutMlps cut;
    private readonly TargetReadout readout;
    private readonly HookPoint[] sourceHooks;
    private readonly int[] sourceRows;
    private readonly float[] sourceVectors;
    private readonly float scale;
    private readonly int d;
    private int[] sequenceSources = [];

    /// <param name="sourceVectors">Each source's vector [sources × d], removed at its hook (<paramref name="sourceHooks"/>) and position (<paramref name="sourceRows"/>).</param>
    public HeldNodes(IReadOnlyList<TranscoderSplice> splices, TargetReadout readout, HookPoint[] sourceHooks, int[] sourceRows, float[] sourceVectors, float scale, int d)
    {
        cut = new CutMlps(splices, d);
        this.readout = readout; this.sourceHooks = sourceHooks; this.sourceRows = sourceRows;
        this.sourceVectors = sourceVectors; this.scale = scale; this.d = d;
    }

    /// <summary>The targets read by the pass, [sequences × targets]; a layer the pass never reaches keeps what <see cref="Begin"/> put there.</summary>
    public double[] Values { get; private set; } = [];

    /// <summary>Before a pass: which source each sequence removes (−1: none), each target starting at <paramref name="initial"/>.</summary>
    public void Begin(int[] sources, double[]? initial)
    {
        sequenceSources = sources;
        Values = new double[sources.Length * readout.Count];
        if (initial is not null)
            for (int b = 0; b < sources.Length; b++) initial.CopyTo(Values, b * readout.Count);
    }

    public void Apply(HookPoint hook, float[] activation, int batch, int tokens)
    {
        if (batch != sequenceSources.Length) throw new ArgumentException($"the pass has {batch} sequences, not the {sequenceSources.Length} begun");
        // Read, then hold: a residual-stream SAE reads and writes one hook, and its targets see the value computed there.
        if (cut.IsInput(hook, out int l)) readout.ReadFeatures(l, activation, batch, tokens, Values);
        cut.Apply(hook, activation, batch, tokens);
        Remove(hook, activation, batch, tokens);
    }

    private void Remove(HookPoint hook, float[] activation, int batch, int tokens)
    {
        for (int b = 0; b < batch; b++)
        {
            int s = sequenceSources[b];
            if (s < 0 || sourceHooks[s] != hook) continue;
            var row = activation.AsSpan((b * tokens + sourceRows[s]) * d, d);
            TensorPrimitives.MultiplyAdd(sourceVectors.AsSpan(s * d, d), -scale, row, row);
        }
    }
}
