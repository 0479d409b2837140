using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Attribution;

/// <summary>A circuit node: feature <see cref="Feature"/> of the SAE at <see cref="Hook"/> (−1: that SAE's error node), at one position or summed over positions (<see cref="Position"/> −1).</summary>
public readonly record struct CircuitNode(HookPoint Hook, int Feature, int Position)
{
    public bool IsError => Feature < 0;

    public override string ToString() =>
        $"{Hook}/{(IsError ? "error" : Feature.ToString(System.Globalization.CultureInfo.InvariantCulture))}{(Position >= 0 ? $"@{Position}" : "")}";
}

/// <summary>
/// The nodes of several spliced SAEs numbered one after another: SAE by SAE, each SAE's features then its
/// error node — once (summed over positions) or once per position (<c>--per-position</c>).
/// </summary>
public sealed class CircuitNodes
{
    private readonly int[] offsets;

    public CircuitNodes(IReadOnlyList<HookedSae> saes, int tokens, bool perPosition)
    {
        Saes = saes; Tokens = tokens; PerPosition = perPosition;
        offsets = new int[saes.Count + 1];
        for (int h = 0; h < saes.Count; h++) offsets[h + 1] = offsets[h] + (saes[h].Sae.DSae + 1) * (perPosition ? tokens : 1);
    }

    public IReadOnlyList<HookedSae> Saes { get; }
    public int Tokens { get; }
    public bool PerPosition { get; }
    public int Count => offsets[^1];

    /// <summary>The node of SAE <paramref name="hook"/>'s feature (d_sae: its error node) at a position (ignored when summed).</summary>
    public int Index(int hook, int feature, int position) =>
        offsets[hook] + (PerPosition ? position * (Saes[hook].Sae.DSae + 1) : 0) + feature;

    public CircuitNode Node(int index)
    {
        int h = Array.FindLastIndex(offsets, o => o <= index);
        int width = Saes[h].Sae.DSae + 1, local = index - offsets[h];
        int feature = local % width;
        return new CircuitNode(Saes[h].Hook, feature == width - 1 ? -1 : feature, PerPosition ? local / width : -1);
    }

    /// <summary>Every node's score under a method: a feature's summed or per-position score, the error node's likewise.</summary>
    public double[] Scores(NodeScores scores)
    {
        var values = new double[Count];
        for (int h = 0; h < Saes.Count; h++)
        {
            var r = scores.Hooks[h];
            int n = r.FeatureCount;
            if (!PerPosition)
            {
                for (int i = 0; i < n; i++) values[Index(h, i, 0)] = r.FeatureTotals[i];
                values[Index(h, n, 0)] = r.ErrorNode;
                continue;
            }
            for (int t = 0; t < Tokens; t++)
            {
                for (int i = 0; i < n; i++) values[Index(h, i, t)] = r.Score(t, i);
                values[Index(h, n, t)] = r.ErrorPerPosition[t];
            }
        }
        return values;
    }

    /// <summary>Nodes by descending |score| (ties by number): a method's circuit of size n is the first n.</summary>
    public static int[] Ranking(double[] scores) =>
        Enumerable.Range(0, scores.Length).OrderByDescending(i => Math.Abs(scores[i])).ThenBy(i => i).ToArray();
}
