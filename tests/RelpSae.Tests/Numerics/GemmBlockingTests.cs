using RelpSae.Numerics;

namespace RelpSae.Tests.Numerics;

/// <summary>
/// How a product is cut — column blocks, thread bands, the prefetch of a packed B's next block — must
/// not change its sums: only the order of work, never the order of a sum, depends on the cut.
/// </summary>
public class GemmBlockingTests
{
    [Fact]
    public void ColumnBlocksAreEvenWholePanelsWithinTheLimit()
    {
        Assert.Equal(192, GemmDriver.ColumnBlock(32, 768, 48));     // 4 × 192, not 3 × 240 + 48
        Assert.Equal(240, GemmDriver.ColumnBlock(8, 768, 48));      // bound by memory: full blocks
        Assert.Equal(240, GemmDriver.ColumnBlock(32, 50257, 48));
        foreach (int n in Enumerable.Range(1, 5000).Concat([32000, 50257, 128256, 151936, 262144]))
            foreach (int nr in new[] { 48, 16, 3 })
            {
                int block = GemmDriver.ColumnBlock(GemmDriver.FewRows, n, nr), blocks = (n + block - 1) / block;
                Assert.True(block % nr == 0 && block <= GemmDriver.NC, $"n {n}, nr {nr}: block {block}");
                Assert.Equal((n + GemmDriver.NC - 1) / GemmDriver.NC, blocks);       // as few blocks as NC allows
                Assert.True(n - (blocks - 1) * block > block - blocks * nr, $"n {n}, nr {nr}: last block of {n - (blocks - 1) * block} after {block}");
            }
    }

    // Several column blocks (768 and 1500 columns) and depths past KC, so that every block but the last
    // prefetches the next: 8 rows in full-width blocks, their share at once; 32 and 64 rows in even
    // blocks, a line per kernel step.
    [Theory]
    [InlineData(8, 768, 600)]
    [InlineData(32, 768, 600)]
    [InlineData(64, 1500, 300)]
    public void SeveralColumnBlocksMatchFloat64(int m, int n, int k)
    {
        foreach (bool transB in new[] { false, true })
        {
            var g = new GemmCase(m, n, k, transA: false, transB, pad: 1, seed: m + n);
            g.AssertAll(g.Run(accumulate: false), accumulate: false);
            g.AssertAll(g.RunPacked(accumulate: true), accumulate: true);
            g.AssertAll(g.RunPacked(accumulate: false, threads: 2), accumulate: false);
        }
    }

    [Theory]
    [InlineData(8)]
    [InlineData(32)]    // two threads: column bands (16-row bands would each stream all of B)
    [InlineData(64)]    // two threads: row bands sharing B
    [InlineData(200)]
    public void TwoThreadsGiveOneThreadsBitsWithAPackedB(int m)
    {
        var g = new GemmCase(m, 768, 600, transA: false, transB: true, seed: 3);
        Assert.Equal(g.RunPacked(accumulate: false, threads: 1), g.RunPacked(accumulate: false, threads: 2));
    }

    [Theory]
    [InlineData(31, true)]
    [InlineData(32, true)]
    [InlineData(56, true)]
    [InlineData(64, false)]
    [InlineData(1024, false)]
    public void SharedPackedBIsSplitByRowsOnlyWithRowsEnoughPerThread(int m, bool byColumns)
    {
        var g = new GemmCase(m, 768, 600, transA: false, transB: false, seed: 1);
        var packed = new PackedMatrix(g.OpB());
        unsafe
        {
            fixed (float* a = g.A)
            {
                var c = new float[m * g.N];
                fixed (float* pc = c)
                {
                    var problem = GemmProblem.WithPacked(m, a, g.Lda, transA: false, packed, pc, g.N, accumulate: false);
                    var plan = ParallelGemm.Plan(problem, packed.Path, threads: 2);
                    Assert.Equal(2, plan.Parts);
                    Assert.Equal(byColumns, plan.ByColumns);
                }
            }
        }
    }

    // A backward's dy·Wᵀ, W 768 × 3072 (the depth): column bands below 257 rows; row bands on the broadcast path from 257 rows,
    // each band one it takes (256 × 4 ≤ 3072); row bands anyway with more rows than W's 768 (two bands of 512, each also on the broadcast path).
    [Theory]
    [InlineData(128, true)]
    [InlineData(256, true)]
    [InlineData(512, false)]
    [InlineData(1024, false)]
    public void ProductsWithWTransposedTakeRowBandsWhereTheBroadcastPathKeepsThemInL2(int m, bool byColumns)
    {
        var w = new GemmCase(768, 1, 3072, transA: false, transB: false, seed: 2).A;
        var packed = new PackedMatrix(Matrix.Of(w, 768, 3072));
        var dy = new float[m * 3072];
        var dx = new float[m * 768];
        unsafe
        {
            fixed (float* a = dy, c = dx)
            {
                var problem = GemmProblem.WithPackedTranspose(m, a, 3072, transA: false, packed, c, 768, accumulate: false);
                var plan = ParallelGemm.Plan(problem, packed.Path, threads: 2);
                Assert.Equal(2, plan.Parts);
                Assert.Equal(byColumns, plan.ByColumns);
            }
        }
    }
}
