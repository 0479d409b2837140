using RelpSae.Numerics;

namespace RelpSae.Tests.Numerics;

/// <summary>16-bit panels and products with the transpose of packed panels, against float32 panels and float64.</summary>
public class PanelElementTests
{
    /// <summary>A random k×n matrix whose values <paramref name="element"/> holds exactly.</summary>
    private static float[] Representable(int count, PanelElement element, int seed)
    {
        var rng = new Random(seed);
        var x = new float[count];
        for (int i = 0; i < count; i++)
        {
            float v = (float)(rng.NextDouble() * 2 - 1);
            x[i] = element switch
            {
                PanelElement.BFloat16 => BitConverter.Int32BitsToSingle(PanelElements.ToBFloat16(v) << 16),
                PanelElement.Float16 => (float)(Half)v,
                _ => v,
            };
        }
        return x;
    }

    public static TheoryData<PanelElement, int, int> Cases() => new()
    {
        { PanelElement.BFloat16, 1, 1 }, { PanelElement.BFloat16, 7, 1 }, { PanelElement.BFloat16, 40, 1 }, { PanelElement.BFloat16, 130, 2 },
        { PanelElement.Float16, 1, 1 }, { PanelElement.Float16, 40, 2 }, { PanelElement.Float32, 130, 2 },
    };

    [Theory, MemberData(nameof(Cases))]
    public void SixteenBitPanelsGiveTheFloat32PanelsBits(PanelElement element, int m, int threads)
    {
        // Widening is exact and the kernel and its order of sums are the same: not one bit may differ.
        int k = 300, n = 200;   // ragged: a second KC block and a part panel
        var b = Representable(k * n, element, 3);
        var a = Representable(m * k, PanelElement.Float32, 4);
        foreach (var path in new[] { GemmPath.Vector512, GemmPath.Vector256, GemmPath.Scalar })
        {
            var wide = new PackedMatrix(Matrix.Of(b, n, k).T, path);
            var narrow = new PackedMatrix(Matrix.Of(b, n, k).T, path, element);
            Assert.Equal(element == PanelElement.Float32 ? wide.Bytes : (wide.Bytes - 64) / 2 + 64, narrow.Bytes, 64.0);
            Assert.Equal(Product(a, m, wide, threads), Product(a, m, narrow, threads));
        }
    }

    private static float[] Product(float[] a, int m, PackedMatrix b, int threads)
    {
        var c = new float[m * b.Cols];
        Gemm.Multiply(Matrix.Of(a, m, b.Rows), b, Matrix.Into(c, m, b.Cols), accumulate: false, threads);
        return c;
    }

    [Theory, MemberData(nameof(Cases))]
    public void ProductsWithTheTransposeOfPanelsAreTheProductsWithTheTranspose(PanelElement element, int m, int threads)
    {
        // C = A·Pᵀ read from P's panels, against float64 and, bit for bit, the same product packed per call.
        int k = 300, n = 200;   // P is k×n: the product's depth is n, its columns k
        var p = Representable(k * n, element, 5);
        var a = Representable(m * n, PanelElement.Float32, 6);
        var c0 = Representable(m * k, PanelElement.Float32, 7);
        foreach (var path in new[] { GemmPath.Vector512, GemmPath.Vector256, GemmPath.Scalar })
            foreach (bool accumulate in new[] { false, true })
            {
                var packed = new PackedMatrix(Matrix.Of(p, k, n), path, element);
                var c = (float[])c0.Clone();
                Gemm.Multiply(Matrix.Of(a, m, n), packed.T, Matrix.Into(c, m, k), accumulate);
                for (int i = 0; i < m; i++)
                    for (int j = 0; j < k; j++)
                    {
                        double exact = accumulate ? c0[i * k + j] : 0, scale = Math.Abs(exact);
                        for (int q = 0; q < n; q++) { exact += (double)a[i * n + q] * p[j * n + q]; scale += Math.Abs((double)a[i * n + q] * p[j * n + q]); }
                        Assert.True(Math.Abs(c[i * k + j] - exact) <= 1e-5 * scale, $"{path} C[{i},{j}] = {c[i * k + j]}, exact {exact}");
                    }
                if (m < Gemm.SkinnyRows(transB: true)) continue;   // few rows read an unpacked Bᵀ in another order
                var perCall = (float[])c0.Clone();
                Gemm.Multiply(Matrix.Of(a, m, n), Matrix.Of(p, k, n).T, Matrix.Into(perCall, m, k), accumulate, threads, path);
                Assert.Equal(perCall, c);
            }
    }

    [Fact]
    public void PackingFromRowBandsGivesTheSamePanels()
    {
        // A checkpoint's weight is packed a band of rows at a time: the panels must be those of the whole matrix.
        int rows = 1500, cols = 300;   // more than one band of NC stored rows, and of KC
        var w = Representable(rows * cols, PanelElement.BFloat16, 8);
        void Read(int first, int count, Span<float> into) => w.AsSpan(first * cols, count * cols).CopyTo(into);
        foreach (bool transposed in new[] { true, false })
        {
            var whole = new PackedMatrix(transposed ? Matrix.Of(w, rows, cols).T : Matrix.Of(w, rows, cols), PanelElement.BFloat16);
            var banded = new PackedMatrix(rows, cols, transposed, Read, PanelElement.BFloat16);
            Assert.Equal(whole.ToArray(), banded.ToArray());
            Assert.Equal(transposed ? Transpose(w, rows, cols) : w, banded.ToArray());
        }
    }

    private static float[] Transpose(float[] x, int rows, int cols) =>
        Enumerable.Range(0, rows * cols).Select(i => x[i % rows * cols + i / rows]).ToArray();

    [Fact]
    public void ColumnReadsBackWhatWasPacked()
    {
        int k = 270, n = 100;
        var b = Representable(k * n, PanelElement.Float16, 9);
        var packed = new PackedMatrix(Matrix.Of(b, k, n), PanelElement.Float16);
        var column = new float[k];
        packed.Column(97, column);
        Assert.Equal(Enumerable.Range(0, k).Select(p => b[p * n + 97]), column);
    }

    [Theory]
    [InlineData(0x3F808000u, (ushort)0x3F80)]   // a tie rounds to the even neighbour, down
    [InlineData(0x3F818000u, (ushort)0x3F82)]   // and up
    [InlineData(0x3F808001u, (ushort)0x3F81)]   // above the tie, up
    [InlineData(0xC0490FDBu, (ushort)0xC049)]   // −π
    [InlineData(0x7F7FFFFFu, (ushort)0x7F80)]   // float32's largest rounds to infinity, as torch's does
    public void RoundingToBFloat16IsToNearestEven(uint bits, ushort expected) =>
        Assert.Equal(expected, PanelElements.ToBFloat16(BitConverter.UInt32BitsToSingle(bits)));
}
