using System.Numerics.Tensors;
using RelpSae.Attribution;
using RelpSae.Model;
using RelpSae.Numerics;

namespace RelpSae.Graphs;

/// <summary>
/// The MLPs cut out of a forward pass over a graph's transcoders: at every layer's transcoder output hook the MLP's
/// output is replaced by its clean value — with a skip connection, plus W_skip·(live input − clean input), the linear
/// path the replacement model keeps — so no effect runs through a feature or error node, while attention and norms
/// compute from what reaches them.
/// </summary>
internal sealed class CutMlps
{
    private readonly IReadOnlyList<TranscoderSplice> splices;
    private readonly Dictionary<HookPoint, int> inputLayer, outputLayer;
    private readonly int d;
    private float[] liveInput = [];

    public CutMlps(IReadOnlyList<TranscoderSplice> splices, int d)
    {
        this.splices = splices; this.d = d;
        inputLayer = splices.Select((s, l) => (s.InputHook, l)).ToDictionary(p => p.InputHook, p => p.l);
        outputLayer = splices.Select((s, l) => (s.OutputHook, l)).ToDictionary(p => p.OutputHook, p => p.l);
    }

    /// <summary>True at a transcoder's input hook, with its layer.</summary>
    public bool IsInput(HookPoint hook, out int layer) => inputLayer.TryGetValue(hook, out layer);

    /// <summary>Called at every hook: keeps the live input where a skip connection reads it; at an output hook writes the held output and returns its layer, else −1.</summary>
    public int Apply(HookPoint hook, float[] activation, int batch, int tokens)
    {
        if (inputLayer.TryGetValue(hook, out int l) && splices[l].Transcoder.Skip is not null) liveInput = activation[..(batch * tokens * d)];
        if (!outputLayer.TryGetValue(hook, out l)) return -1;
        Hold(splices[l], activation, batch, tokens);
        return l;
    }

    private void Hold(TranscoderSplice splice, float[] activation, int batch, int tokens)
    {
        int size = tokens * d;
        for (int b = 0; b < batch; b++) splice.TrueOutput.AsSpan(0, size).CopyTo(activation.AsSpan(b * size, size));
        if (splice.Transcoder.Skip is not { } skip) return;
        for (int b = 0; b < batch; b++)
        {
            var live = liveInput.AsSpan(b * size, size);
            TensorPrimitives.Subtract(live, splice.Input, live);
        }
        Gemm.Multiply(Matrix.Of(liveInput, batch * tokens, d), Matrix.Of(skip, d, d).T, Matrix.Into(activation.AsSpan(0, batch * size), batch * tokens, d), accumulate: true);
    }
}
