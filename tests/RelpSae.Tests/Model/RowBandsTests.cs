using RelpSae.Model;
using RelpSae.Numerics;

namespace RelpSae.Tests.Model;

public class RowBandsTests
{
    [Theory]
    [InlineData(128, 3072, 2)]   // split: one band per thread
    [InlineData(7, 3072, 3)]     // uneven rows
    [InlineData(32, 768, 2)]     // a 32-token LayerNorm: over the threshold
    [InlineData(4, 16, 2)]       // too little work: one band
    public void BandsCoverEveryRowOnce(int rows, int width, int threads)
    {
        int saved = Threads.Count;
        try
        {
            Threads.Count = threads;
            var hits = new int[rows];
            int bands = 0;
            RowBands.For(rows, width, (r0, r1) =>
            {
                Interlocked.Increment(ref bands);
                for (int r = r0; r < r1; r++) Interlocked.Increment(ref hits[r]);
            });
            Assert.All(hits, h => Assert.Equal(1, h));
            // Threads.Count is process-wide (another test may change it meanwhile): only the small case is exact.
            if ((long)rows * width < RowBands.ParallelElements) Assert.Equal(1, bands);
            else Assert.InRange(bands, 1, rows);
        }
        finally { Threads.Count = saved; }
    }

    [Fact]
    public void GeluInBandsEqualsGeluWhole()
    {
        var rng = new Random(3);
        int rows = 40, width = 3000;
        var u = Enumerable.Range(0, rows * width).Select(_ => (float)(rng.NextDouble() * 8 - 4)).ToArray();
        var whole = new float[u.Length];
        Gelu.Forward(u, whole);
        var banded = new float[u.Length];
        int saved = Threads.Count;
        try
        {
            Threads.Count = 2;
            RowBands.For(rows, width, (r0, r1) => Gelu.Forward(u.AsSpan(r0 * width, (r1 - r0) * width), banded.AsSpan(r0 * width, (r1 - r0) * width)));
        }
        finally { Threads.Count = saved; }
        Assert.Equal(whole, banded);
    }
}
