using System.Numerics.Tensors;
using RelpSae.Attribution;
using RelpSae.Model;

namespace RelpSae.Graphs;

/// <summary>
/// The forward pass at points of integrated gradients' path through an attribution graph, one point a sequence: every
/// MLP held at its clean output (<see cref="CutMlps"/>), less (1 − α) times the sum of the graph's nodes there — each
/// active feature's a_s·W_dec[s] and the error node — so the nodes move from zero (α = 0) to their clean values (α = 1)
/// together, while b_dec, what is no node (a BOS position) and the embeddings stay, and a skip connection follows its
/// live input. Attention and norms compute from what reaches them.
/// </summary>
internal sealed class IntegratedPath : IActivationRewrite
{
    private readonly CutMlps cut;
    private readonly float[] nodeSums;
    private readonly double[] alphas;
    private readonly int d;

    /// <param name="alphas">Each sequence's point on the path.</param>
    public IntegratedPath(GraphSetup setup, IReadOnlyList<TranscoderSplice> splices, float[] nodeSums, double[] alphas)
    {
        d = setup.Model.Facts.DModel;
        cut = new CutMlps(splices, d);
        this.nodeSums = nodeSums;
        this.alphas = alphas;
    }

    /// <summary>The sum of the nodes on each layer's MLP output, [layers × tokens × d]: the features' a_s·W_dec[s] and ε.</summary>
    public static float[] NodeSums(GraphSetup setup)
    {
        int T = setup.Tokens.Length, d = setup.Model.Facts.DModel;
        var sums = (float[])setup.Errors.Clone();
        for (int block = 0; block < setup.Layers * T; block++)
        {
            var into = sums.AsSpan(block * d, d);
            for (int k = setup.BlockStart[block]; k < setup.BlockStart[block + 1]; k++)
                TensorPrimitives.Add(into, setup.ScaledDecoders.AsSpan(k * d, d), into);
        }
        return sums;
    }

    public void Apply(HookPoint hook, float[] activation, int batch, int tokens)
    {
        if (batch != alphas.Length) throw new ArgumentException($"the pass has {batch} sequences, not the {alphas.Length} path points given");
        int l = cut.Apply(hook, activation, batch, tokens);
        if (l < 0) return;
        int size = tokens * d;
        var sum = nodeSums.AsSpan(l * size, size);
        for (int b = 0; b < batch; b++)
        {
            var row = activation.AsSpan(b * size, size);
            TensorPrimitives.MultiplyAdd(sum, (float)(alphas[b] - 1), row, row);
        }
    }
}
