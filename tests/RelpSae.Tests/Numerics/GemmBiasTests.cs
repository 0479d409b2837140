using RelpSae.Numerics;

namespace RelpSae.Tests.Numerics;

/// <summary>
/// A product with the bias added as it is stored gives, bit for bit, C filled with the bias and then
/// accumulated (the model's linear layers before), on every kernel, on ragged edges, over several blocks
/// of the shared dimension, and split over two threads by rows or by columns.
/// </summary>
public class GemmBiasTests
{
    [Theory]
    [InlineData(13, 100, 300)]    // ragged rows and columns, two blocks of the shared dimension
    [InlineData(8, 96, 40)]       // whole tiles, one block
    [InlineData(130, 2304, 70)]   // wide enough to split over two threads
    [InlineData(600, 40, 100)]    // tall: split by rows
    public void BiasAddedOnStoreEqualsFillThenAccumulate(int m, int n, int k)
    {
        var rng = new Random(m + n + k);
        float[] Random(int count) => Enumerable.Range(0, count).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var a = Random(m * k);
        var bias = Random(n);
        var weights = Random(k * n);
        int saved = Threads.Count;
        try
        {
            foreach (var path in new[] { GemmPath.Vector512, GemmPath.Vector256, GemmPath.Scalar })
                foreach (int threads in new[] { 1, 2 })
                {
                    Threads.Count = threads;
                    var b = new PackedMatrix(Matrix.Of(weights, k, n), path);
                    var expected = new float[m * n];
                    for (int i = 0; i < m; i++) bias.CopyTo(expected, i * n);
                    Gemm.Multiply(Matrix.Of(a, m, k), b, Matrix.Into(expected, m, n), accumulate: true);
                    var actual = Random(m * n);   // garbage: every element must be written
                    Gemm.MultiplyAddBias(Matrix.Of(a, m, k), b, bias, Matrix.Into(actual, m, n));
                    Assert.Equal(expected, actual);
                }
        }
        finally { Threads.Count = saved; }
    }

    [Fact]
    public void ABiasOfTheWrongWidthIsRefused() =>
        Assert.Throws<ArgumentException>(() =>
            Gemm.MultiplyAddBias(Matrix.Of(new float[3], 1, 3), new PackedMatrix(Matrix.Of(new float[12], 3, 4)), new float[5], Matrix.Into(new float[4], 1, 4)));
}
