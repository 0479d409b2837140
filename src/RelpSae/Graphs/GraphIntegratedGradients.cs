using System.Numerics.Tensors;
using RelpSae.Attribution;
using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Graphs;

/// <summary>
/// An attribution graph's edges by integrated gradients: the nodes on the MLP outputs (features and error nodes) move
/// from zero to their clean values together (<see cref="IntegratedPath"/>), as node-level integrated gradients moves a
/// hook's whole activation, the embeddings held. At each quadrature node α the model runs forward along the path and
/// the gradient method's seeded backward pass (exact, MLPs cut) gives every target's gradient there; edge = source ·
/// the weighted mean of those gradients. So the edges from the MLP outputs into a target add up to target(α = 1) −
/// target(α = 0), up to the quadrature's error, where the gradient's edges are a first-order guess at it. Each target
/// costs one backward row a step; the path points of a target share a pass, as many as fit, the rest in further
/// forward passes (then renewed for each pass of targets).
/// </summary>
public static class GraphIntegratedGradients
{
    /// <param name="progress">Hears the backward rows done: targets × steps.</param>
    /// <param name="sameFeaturesAs">A graph of the same setup whose feature nodes this one keeps; null: chosen by influence.</param>
    public static AttributionGraph Build(GraphSetup setup, int steps, Action<int>? progress = null, CancellationToken cancel = default,
        AttributionGraph? sameFeaturesAs = null)
    {
        var (alphas, weights) = Quadrature.Create(QuadratureRule.Midpoint, IntegratedGradients.CheckedSteps(steps));
        return Build(setup, alphas, weights, progress, cancel, sameFeaturesAs);
    }

    /// <summary>The graph from the gradients at path points <paramref name="alphas"/>, weighted by <paramref name="weights"/>.</summary>
    internal static AttributionGraph Build(GraphSetup setup, double[] alphas, double[] weights, Action<int>? progress = null, CancellationToken cancel = default,
        AttributionGraph? sameFeaturesAs = null)
    {
        int steps = alphas.Length, L = setup.Layers, size = setup.Tokens.Length * setup.Model.Facts.DModel, capacity = GraphAttribution.SequencesPerPass(setup);
        // Path points a pass, split evenly over the passes a target needs; targets a pass, as many as the rest allows.
        int groups = (steps + capacity - 1) / capacity, points = (steps + groups - 1) / groups;
        int perPass = Math.Clamp(capacity / points, 1, Math.Max(1, setup.Targets));

        var splices = TranscoderSplice.All(setup.Model, setup.Set, setup.Tokens);
        var nodeSums = IntegratedPath.NodeSums(setup);
        var skips = GraphAttribution.Skips(setup);
        var rules = GraphMethod.Parse(GraphMethod.IntegratedGradients);
        var record = new ComponentGradients(L);
        var mean = new ComponentGradients(L);
        for (int l = 0; l < L; l++) mean.MlpOut[l] = new float[perPass * size];
        mean.ResidPre[0] = new float[perPass * size];
        var buffer = new float[(long)perPass * GraphAttribution.Columns(setup)];

        ITransformerRun? run = null;
        int runGroup = -1;
        try
        {
            return GraphAttribution.Visit(setup, GraphMethod.IntegratedGradients, perPass, chunk =>
            {
                foreach (var m in mean.MlpOut.Append(mean.ResidPre[0])) Array.Clear(m!);
                for (int group = 0, start = 0; start < steps; group++, start += points)
                {
                    int count = Math.Min(points, steps - start);
                    if (group != runGroup)
                    {
                        run?.Dispose();
                        run = null;
                        var path = new IntegratedPath(setup, splices, nodeSums, [.. Enumerable.Range(0, perPass * count).Select(b => alphas[start + b % count])]);
                        run = setup.Model.Forward(GraphAttribution.Repeated(setup.Tokens, perPass * count), perPass * count,
                            new RunOptions { KeepForBackward = true, Logits = LogitRows.None, Rewrite = path });
                        runGroup = group;
                    }
                    // Sequence k·count + j: target k at path point start + j.
                    var seeds = new List<GradientSeed>();
                    for (int k = 0; k < chunk.Length; k++)
                        for (int j = 0; j < count; j++) seeds.Add(GraphAttribution.Seed(setup, chunk[k], k * count + j));
                    run!.SeededBackward(seeds, rules, record, skips);
                    for (int l = 0; l < L; l++) Accumulate(record.MlpOut[l], mean.MlpOut[l]!, chunk.Length, count, weights.AsSpan(start, count), size);
                    Accumulate(record.ResidPre[0], mean.ResidPre[0]!, chunk.Length, count, weights.AsSpan(start, count), size);
                }
                GraphAttribution.Contract(setup, mean, chunk, buffer);
                return buffer;
            }, done => progress?.Invoke(done * steps), cancel, sameFeaturesAs);
        }
        finally { run?.Dispose(); }
    }

    /// <summary>
    /// Adds each target's gradients at its path points, weighted, into its slot of <paramref name="mean"/>. A layer the
    /// passes have not reached yet (null) is one no target of theirs reads.
    /// </summary>
    private static void Accumulate(float[]? gradients, float[] mean, int targets, int count, ReadOnlySpan<double> weights, int size)
    {
        if (gradients is null) return;
        for (int k = 0; k < targets; k++)
            for (int j = 0; j < count; j++)
                TensorPrimitives.MultiplyAdd(gradients.AsSpan((k * count + j) * size, size), (float)weights[j], mean.AsSpan(k * size, size), mean.AsSpan(k * size, size));
    }
}
