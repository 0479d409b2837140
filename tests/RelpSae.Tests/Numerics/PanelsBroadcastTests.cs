using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;
using RelpSae.Numerics;

namespace RelpSae.Tests.Numerics;

/// <summary>C = A·Pᵀ computed as Cᵀ = P·Aᵀ on P's panels (<see cref="PanelsBroadcast"/>) against the tiled path's bits.</summary>
public class PanelsBroadcastTests
{
    // P is 760 × 4100: three KC blocks of its rows (the last 248 deep), and a depth of 4100 (deep enough for 512 rows
    // accumulated), so the depth's KC blocks start inside panels (256 is 5⅓ panels of 48), and the last panel is ragged.
    private const int PRows = 760, PCols = 4100;

    public static TheoryData<int, bool, PanelElement> Cases() => new()
    {
        { PanelRowsTransposed.MaxRows + 1, false, PanelElement.Float32 }, { 20, true, PanelElement.Float32 }, { 37, false, PanelElement.Float32 },
        { 100, true, PanelElement.Float32 }, { 128, false, PanelElement.Float32 }, { PanelsBroadcast.MaxRows, true, PanelElement.Float32 },
        { 37, true, PanelElement.BFloat16 }, { 128, false, PanelElement.BFloat16 }, { 20, false, PanelElement.Float16 },
    };

    [Theory, MemberData(nameof(Cases))]
    public unsafe void GivesTheTiledPathsBits(int m, bool transA, PanelElement element)
    {
        if (!Avx512F.IsSupported) return;   // the path exists for the 512-bit kernel alone
        var weight = new GemmCase(PRows, 1, PCols, transA: false, transB: false, seed: 5).A;
        var packed = new PackedMatrix(Matrix.Of(weight, PRows, PCols), element);
        var p = packed.ToArray();   // P's values as held (rounded to 16 bits where they are)
        var g = new GemmCase(m, PRows, PCols, transA, transB: false, seed: 22);
        foreach (var accumulate in new[] { false, true })
        {
            float[] tiled = (float[])g.C0.Clone(), broadcast = (float[])g.C0.Clone();
            fixed (float* a = g.A, pt = tiled, pb = broadcast)
            {
                var problem = GemmProblem.WithPackedTranspose(m, a, g.Lda, transA, packed, pt, g.Ldc, accumulate);
                Assert.True(PanelsBroadcast.Handles(problem));
                GemmDriver.Run<Vector512<float>, Vector512Ops>(problem);
                PanelsBroadcast.Run(GemmProblem.WithPackedTranspose(m, a, g.Lda, transA, packed, pb, g.Ldc, accumulate));
            }
            Assert.Equal(tiled, broadcast);
            // The product's own route, on 1 and 2 threads (column bands: P's rows from the middle of a block), gives them too.
            var saved = Threads.Count;
            try
            {
                foreach (var threads in new[] { 1, 2 })
                {
                    Threads.Count = threads;
                    var c = (float[])g.C0.Clone();
                    Gemm.Multiply(g.OpA(), packed.T, Matrix.Into(c, m, PRows), accumulate);
                    Assert.Equal(tiled, c);
                }
            }
            finally { Threads.Count = saved; }
            // And they are the product's sums: against a double-precision sum over P's values.
            for (int i = 0; i < m; i += 7)
                for (int j = 0; j < PRows; j += 37)
                {
                    double sum = accumulate ? g.C0[i * PRows + j] : 0;
                    for (int q = 0; q < PCols; q++) sum += (double)g.OpA(i, q) * p[j * PCols + q];
                    Assert.Equal(sum, broadcast[i * PRows + j], 1e-3);
                }
        }
    }
}
