namespace RelpSae.Graphs;

/// <summary>
/// What a graph holds at its largest, checked before any backward pass: the rows of the targets over every node of the
/// prompt (kept features' and logits' rows), and the dense n × n adjacency with the pruning's copies of it (normalised,
/// edge scores, the pruned matrix: four float matrices and a mask).
/// </summary>
public static class GraphMemory
{
    public static long Bytes(long keptNodes, long allNodes, long targets) => keptNodes * keptNodes * (4 * sizeof(float) + 1) + targets * allNodes * sizeof(float);

    public static void Check(long keptNodes, long allNodes, long targets, long available)
    {
        long bytes = Bytes(keptNodes, allNodes, targets);
        if (bytes > available)
            throw new RelpSaeException($"a graph of {keptNodes:N0} nodes needs about {bytes / (double)(1L << 30):F1} GiB, more than the {available / (double)(1L << 30):F1} GiB available: keep fewer feature nodes");
    }
}
