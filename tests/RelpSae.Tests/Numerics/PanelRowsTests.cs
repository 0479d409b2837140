using RelpSae.Numerics;

namespace RelpSae.Tests.Numerics;

/// <summary>Products of one or two rows with packed panels (<see cref="PanelRows"/>) against the tiled path's rows.</summary>
public class PanelRowsTests
{
    public static TheoryData<PanelElement, int, bool, int> Cases() => new()
    {
        { PanelElement.BFloat16, 1, false, 1 }, { PanelElement.BFloat16, 2, true, 2 }, { PanelElement.BFloat16, 1, false, 2 },
        { PanelElement.Float32, 1, true, 1 }, { PanelElement.Float32, 2, false, 2 }, { PanelElement.Float16, 1, false, 1 },
    };

    [Theory, MemberData(nameof(Cases))]
    public void FewRowsGetTheBitsTheyGetAmongMany(PanelElement element, int m, bool transA, int threads)
    {
        // A row's sums may not depend on how many rows share its product (a patch that changes nothing must
        // measure exactly 0): the few-row path sums in the micro-kernel's order, also with a bias or into C.
        int many = 11, k = 700, n = 1500;   // three KC blocks, a ragged last panel, and enough work for two threads
        var g = new GemmCase(many, n, k, transA, transB: true, seed: 21);
        var packed = new PackedMatrix(g.OpB(), element);
        var bias = g.C0.AsSpan(0, n).ToArray();
        var saved = Threads.Count;
        try
        {
            Threads.Count = threads;
            foreach (var mode in new[] { "store", "bias", "accumulate" })
            {
                var all = Product(g.OpA(), packed, mode, g.C0, bias);
                // Rows 3.. of op(A) alone: the same view, offset (a transposed A is offset along its stored row).
                var rows = transA ? Matrix.Of(g.A.AsSpan(3), k, m, g.Lda).T : Matrix.Of(g.A.AsSpan(3 * g.Lda), m, k, g.Lda);
                var few = Product(rows, packed, mode, g.C0.AsSpan(3 * n, m * n).ToArray(), bias);
                Assert.Equal(all.AsSpan(3 * n, m * n).ToArray(), few);
            }
        }
        finally { Threads.Count = saved; }
    }

    /// <summary>C [rows of a × b.Cols] stored, with a bias, or added to <paramref name="c0"/>.</summary>
    private static float[] Product(ReadOnlyMatrixView a, PackedMatrix b, string mode, float[] c0, float[] bias)
    {
        var c = (float[])c0.Clone();
        var into = Matrix.Into(c, a.Rows, b.Cols);
        if (mode == "bias") Gemm.MultiplyAddBias(a, b, bias, into);
        else Gemm.Multiply(a, b, into, accumulate: mode == "accumulate");
        return c;
    }
}
