using RelpSae.Graphs;
using RelpSae.Model;

namespace RelpSae.Tests.Graphs;

/// <summary>
/// The copies of the prompt one backward pass of a graph holds are bounded by the memory available: at Gemma-2 2B's shape
/// a 16-token prompt gets far fewer than the default 2048 rows of 8 GB free, the tarot model all of them.
/// </summary>
public class GraphBatchMemoryTests
{
    private static ModelFacts Shape(int d, int layers, int heads, int dMlp) =>
        Families.Named("tarot-gpt2").Load().Facts with { DModel = d, NLayers = layers, NHeads = heads, DMlp = dMlp };

    [Fact]
    public void ABigModelsPassHoldsWhatAQuarterOfTheMemoryAllows()
    {
        long available = 8L << 30;
        var gemma = Shape(2304, 26, 8, 9216);
        int sequences = GraphAttribution.SequencesThatFit(gemma, 16, available);
        long perRow = 4L * 26 * (8 * 2304 + 3 * 9216 + 8 * 16);
        Assert.InRange(sequences * 16 * perRow, 0, available / 4);
        Assert.True((sequences + 1) * 16 * perRow > available / 4);
        Assert.True(sequences * 16 < 2048, $"{sequences} sequences");
        Assert.True(GraphAttribution.SequencesThatFit(Shape(128, 4, 4, 512), 16, available) * 16 >= 2048);
        Assert.Equal(1, GraphAttribution.SequencesThatFit(gemma, 16, 0));
    }
}
