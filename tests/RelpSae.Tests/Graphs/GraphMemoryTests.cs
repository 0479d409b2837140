using RelpSae.Graphs;

namespace RelpSae.Tests.Graphs;

/// <summary>A graph too large for the memory at hand is refused before any backward pass, saying how much it needs.</summary>
public class GraphMemoryTests
{
    [Fact]
    public void AGraphLargerThanTheMemoryIsRefusedInOneLine()
    {
        // 50,000 nodes: 50,000² × 17 bytes + 50,000 rows of 60,000 floats ≈ 50.8 GiB.
        var e = Assert.Throws<RelpSaeException>(() => GraphMemory.Check(50_000, 60_000, 50_000, 8L << 30));
        Assert.Equal("a graph of 50,000 nodes needs about 50.8 GiB, more than the 8.0 GiB available: keep fewer feature nodes", e.Message);
        GraphMemory.Check(2_000, 3_000, 2_000, 8L << 30);
    }
}
