using RelpSae.Numerics;

namespace RelpSae.Tests.Numerics;

/// <summary>Products of few rows with the transpose of packed panels (<see cref="PanelRowsTransposed"/>) against the tiled path's rows.</summary>
public class PanelRowsTransposedTests
{
    public static TheoryData<PanelElement, int, bool, int> Cases() => new()
    {
        { PanelElement.BFloat16, 1, false, 1 }, { PanelElement.BFloat16, 2, true, 2 }, { PanelElement.BFloat16, 3, false, 2 },
        { PanelElement.Float32, 1, true, 1 }, { PanelElement.Float32, 2, false, 2 }, { PanelElement.Float32, PanelRowsTransposed.MaxRows, false, 1 },
        { PanelElement.Float16, 1, false, 1 },
    };

    [Theory, MemberData(nameof(Cases))]
    public void FewRowsGetTheBitsTheyGetAmongMany(PanelElement element, int m, bool transA, int threads)
    {
        // A backward's row may not depend on how many rows share its product. P is 700 × 1500: three KC blocks of its
        // rows, the last 188 deep (a ragged group of 16), and a depth of 1500 (a ragged panel, a ragged last 16 columns).
        int many = PanelRowsTransposed.MaxRows + 3, pRows = 700, pCols = 1500;
        var weight = new GemmCase(pRows, 1, pCols, transA: false, transB: false, seed: 5).A;   // A: pRows × pCols
        var packed = new PackedMatrix(Matrix.Of(weight, pRows, pCols), element);
        var g = new GemmCase(many, pRows, pCols, transA, transB: false, seed: 22);
        var saved = Threads.Count;
        try
        {
            Threads.Count = threads;
            foreach (var accumulate in new[] { false, true })
            {
                var all = Product(g.OpA(), packed, accumulate, g.C0);
                var rows = transA ? Matrix.Of(g.A.AsSpan(3), pCols, m, g.Lda).T : Matrix.Of(g.A.AsSpan(3 * g.Lda), m, pCols, g.Lda);
                var few = Product(rows, packed, accumulate, g.C0.AsSpan(3 * pRows, m * pRows).ToArray());
                Assert.Equal(all.AsSpan(3 * pRows, m * pRows).ToArray(), few);
                // And the sums are the product's: against a double-precision sum over the panels' values.
                var p = packed.ToArray();
                for (int r = 0; r < m; r++)
                    for (int j = 0; j < pRows; j += 37)
                    {
                        double sum = accumulate ? g.C0[(3 + r) * pRows + j] : 0;
                        for (int q = 0; q < pCols; q++) sum += (double)g.OpA(3 + r, q) * p[(long)j * pCols + q];
                        Assert.Equal(sum, few[r * pRows + j], 1e-3);
                    }
            }
        }
        finally { Threads.Count = saved; }
    }

    /// <summary>C [rows of a × P's rows] = a·Pᵀ, stored or added to <paramref name="c0"/>.</summary>
    private static float[] Product(ReadOnlyMatrixView a, PackedMatrix p, bool accumulate, float[] c0)
    {
        var c = (float[])c0.Clone();
        Gemm.Multiply(a, p.T, Matrix.Into(c, a.Rows, p.Rows), accumulate);
        return c;
    }
}
