using System.Numerics.Tensors;
using RelpSae.Attribution;
using RelpSae.Sae;

namespace RelpSae.Graphs;

/// <summary>
/// One point of a graph's faithfulness curve: the node threshold, the feature and error nodes its pruned graph keeps, the
/// metric then and its faithfulness (over prompts: the means, and the faithfulness of the means).
/// </summary>
public sealed record FaithfulnessPoint(double Threshold, double FeatureNodes, double ErrorNodes, double Metric, double Faithfulness);

/// <summary>
/// A graph's faithfulness curve on its prompt: at each node threshold the graph is pruned (<see cref="GraphPruning"/>, the
/// run's edge threshold) and the real model run with every transcoder spliced, the pruned graph's feature and error nodes
/// kept and every other feature and error node ablated to zero, as the circuit protocol ablates (<see cref="CircuitAblation"/>:
/// attention, norms and the kept features computed live). The metric is the graph's top logit as its logit node reads it,
/// logit − mean logit. Faithfulness = (m(kept) − m(none kept)) / (m(clean) − m(none kept)), m(none kept) with every node
/// ablated. A prompt that starts with BOS keeps its features and error nodes at position 0: the graph leaves them out as a
/// constant (in its biases), so they are never ablated.
/// </summary>
public sealed record GraphFaithfulness(string Method, int Token, double Clean, double Empty, IReadOnlyList<FaithfulnessPoint> Points)
{
    public static readonly double[] DefaultThresholds = [0.5, 0.6, 0.7, 0.8, 0.9, 0.95, 0.99, 1.0];

    public static double Ratio(double kept, double clean, double empty) => (kept - empty) / (clean - empty);

    /// <summary>
    /// One method's curve over prompts (of one threshold grid): the mean of every value, faithfulness the ratio of the
    /// means — of the sums, as the circuit protocol's F(n), so a prompt whose ablations barely move its logit cannot blow
    /// it up. The token is −1: each prompt has its own.
    /// </summary>
    public static GraphFaithfulness Mean(string method, IReadOnlyList<GraphFaithfulness> prompts)
    {
        if (prompts.Count == 0) throw new ArgumentException("no prompt to average", nameof(prompts));
        double clean = prompts.Average(p => p.Clean), empty = prompts.Average(p => p.Empty);
        var points = prompts[0].Points.Select((first, i) =>
        {
            double metric = prompts.Average(p => p.Points[i].Metric);
            return new FaithfulnessPoint(first.Threshold, prompts.Average(p => p.Points[i].FeatureNodes), prompts.Average(p => p.Points[i].ErrorNodes),
                metric, Ratio(metric, clean, empty));
        }).ToList();
        return new GraphFaithfulness(method, -1, clean, empty, points);
    }

    /// <summary>The curve of <paramref name="graph"/> (built from <paramref name="setup"/>) over <paramref name="thresholds"/>, in one batched pass.</summary>
    public static GraphFaithfulness Measure(GraphSetup setup, AttributionGraph graph, IReadOnlyList<double> thresholds, double edgeThreshold)
    {
        var prunings = thresholds.Select(t => GraphPruning.Prune(graph, t, edgeThreshold)).ToList();
        var kept = prunings.Select(p => Enumerable.Range(0, graph.ErrorStart + graph.Layers * graph.Tokens.Length).Where(i => p.NodeMask[i]).Select(i => graph.Nodes[i]).ToList()).ToList();
        var m = Metrics(setup, [null, [], .. kept]);
        var points = thresholds.Select((t, i) => new FaithfulnessPoint(t, kept[i].Count(n => n.Kind == GraphNodeKind.Feature),
            kept[i].Count(n => n.Kind == GraphNodeKind.Error), m[2 + i], Ratio(m[2 + i], m[0], m[1]))).ToList();
        return new GraphFaithfulness(graph.Method, setup.Logits.Tokens[0], m[0], m[1], points);
    }

    /// <summary>
    /// The top logit (demeaned) with only <paramref name="kept"/>'s feature and error nodes live (and position 0's after BOS),
    /// one value a set; a null set ablates nothing (the model itself).
    /// </summary>
    public static double[] Metrics(GraphSetup setup, IReadOnlyList<IReadOnlyList<GraphNode>?> kept)
    {
        var saes = setup.Set.Select(t => new HookedSae(t.Source, t.Transcoder.Dictionary, t.Output, t.Input)).ToList();
        int T = setup.Tokens.Length, d = setup.Model.Facts.DModel;
        var splices = MultiSaeSplice.Create(setup.Model, saes, setup.Tokens, Baseline.Zero);
        var nodes = new CircuitNodes(saes, T, perPosition: true);
        var layerSae = saes.Select((s, h) => (s.Hook.Layer, h)).ToDictionary(p => p.Layer, p => p.h);
        bool keepFirst = setup.Tokens[0] == setup.Model.Facts.BosTokenId;
        var masks = kept.Select(set =>
        {
            if (set is null) return null;
            var mask = new bool[nodes.Count];
            if (keepFirst)
                for (int h = 0; h < saes.Count; h++)
                    for (int i = 0; i <= saes[h].Sae.DSae; i++) mask[nodes.Index(h, i, 0)] = true;
            foreach (var node in set)
            {
                int h = layerSae[node.Layer];
                mask[nodes.Index(h, node.Kind == GraphNodeKind.Error ? saes[h].Sae.DSae : node.Index, node.Position)] = true;
            }
            return mask;
        }).ToList();
        var direction = setup.Logits.Directions[0];
        return CircuitAblation.Read(setup.Model, splices, nodes, masks, run =>
            [.. Enumerable.Range(0, run.Batch).Select(b => (double)TensorPrimitives.Dot(run.Final.AsSpan((b * T + T - 1) * d, d), direction))]);
    }
}
