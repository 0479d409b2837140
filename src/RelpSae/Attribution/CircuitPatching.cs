using System.Diagnostics;
using RelpSae.Model;

namespace RelpSae.Attribution;

/// <summary>
/// Sparse-feature-circuit evaluation (Marks et al., 2024) of one prompt: each method ranks every node of
/// the spliced SAEs by |score|; for each n of the grid its top-n nodes are kept and every other node
/// ablated to its baseline at all hooks at once (faithfulness), and the top-n removed with the rest kept
/// (completeness). Each method's whole curve — model, empty circuit, every n kept and removed — is one
/// batched forward pass of 2 + 2·|grid| sequences.
/// </summary>
public sealed class CircuitPatching(ITransformer model, IReadOnlyList<IAttributionMethod> methods, bool perPosition)
{
    private bool warmedUp;

    public CircuitEvaluation Evaluate(int index, string prompt, MultiSaeSplice splices, Metric metric, string baseline, double spliceSeconds)
    {
        var nodes = new CircuitNodes(splices.Saes, splices.Tokens.Length, perPosition);
        var grid = CircuitEvaluation.GridFor(nodes.Count);
        if (!warmedUp)
        {
            // One untimed pass of every method first, so the first prompt's times don't include JIT compilation.
            foreach (var method in methods) Curve(method, splices, nodes, grid, metric);
            warmedUp = true;
        }
        var curves = methods.ToDictionary(m => m.Name, m => Curve(m, splices, nodes, grid, metric));
        return new CircuitEvaluation(index, prompt, metric.ToString(), baseline, splices.Saes.Select(s => s.Hook.Name).ToArray(), perPosition,
            nodes.Count, grid, curves, spliceSeconds);
    }

    private CircuitCurve Curve(IAttributionMethod method, MultiSaeSplice splices, CircuitNodes nodes, int[] grid, Metric metric)
    {
        GC.Collect();
        var scores = NodeAttribution.Run(method, model, splices, metric);
        var clock = Stopwatch.StartNew();
        var ranking = CircuitNodes.Ranking(nodes.Scores(scores));
        var masks = new List<bool[]?> { null, new bool[nodes.Count] };
        masks.AddRange(grid.Select(n => Mask(ranking, n, keep: true)));
        masks.AddRange(grid.Select(n => Mask(ranking, n, keep: false)));
        var m = CircuitAblation.Metrics(model, splices, nodes, masks, metric);
        return new CircuitCurve(m[0], m[1], m[2..(2 + grid.Length)], m[(2 + grid.Length)..], scores.Seconds, clock.Elapsed.TotalSeconds);
    }

    /// <summary>Keep the top-n nodes (keep) or every node but them.</summary>
    private static bool[] Mask(int[] ranking, int n, bool keep)
    {
        var mask = new bool[ranking.Length];
        if (!keep) Array.Fill(mask, true);
        for (int i = 0; i < n; i++) mask[ranking[i]] = keep;
        return mask;
    }
}
