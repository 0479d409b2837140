using System.Numerics.Tensors;
using RelpSae.Lrp;
using RelpSae.Model;
using RelpSae.Numerics;

namespace RelpSae.Tests.Model;

/// <summary>
/// The forward's query-row blocks skip the masked keys past each block's last row and give the full
/// T×T products' results bit for bit, from any first row; the backward's, summing dv and dk
/// over blocks, gives them to rounding.
/// </summary>
public class AttentionRowBlockTests
{
    [Fact]
    public void BlocksCoverTheRowsWithSixtyFourToOneHundredTwentySevenRowsEach()
    {
        Assert.Equal([(0, 100)], Attention.RowBlocks(100));
        Assert.Equal([(0, 64), (64, 130)], Attention.RowBlocks(130));
        Assert.Equal([(0, 64), (64, 128), (128, 192), (192, 256)], Attention.RowBlocks(256));
        Assert.Equal(100L * 100, Attention.ComputedScores(100));
        Assert.Equal(64L * 64 + 66 * 130, Attention.ComputedScores(130));
        Assert.Equal(64L * 64 * (1 + 2 + 3 + 4 + 5 + 6 + 7 + 8), Attention.ComputedScores(512));
    }

    [Theory]
    [InlineData(130, 0)]
    [InlineData(300, 0)]
    [InlineData(300, 136)]
    [InlineData(140, 24)]
    public void BlockedAttentionIsTheFullProductsBitForBit(int tokens, int fromRow)
    {
        int heads = 2, dh = 64, d = heads * dh, T = tokens;
        var rng = new Random(tokens + fromRow);
        float[] Random(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var qkv = Random(T * 3 * d);
        for (int h = 0; h < heads; h++)
        {
            var pattern = new float[T * T];
            var z = new float[T * d];
            Attention.Forward(qkv, pattern, z, T, h, d, dh, fromRow);
            var (fullPattern, fullZ) = FullProducts(qkv, T, h, d, dh);
            // From a row on, only the blocks reaching it run: every row from there is the full products'.
            Assert.Equal(fullPattern.AsSpan(fromRow * T).ToArray(), pattern.AsSpan(fromRow * T).ToArray());
            for (int i = fromRow; i < T; i++)
                Assert.Equal(fullZ.AsSpan(i * d + h * dh, dh).ToArray(), z.AsSpan(i * d + h * dh, dh).ToArray());
        }
    }

    /// <summary>The whole T×T scores and pattern·v products, masked after the fact (the kernel before row blocks).</summary>
    private static (float[] Pattern, float[] Z) FullProducts(float[] qkv, int T, int head, int d, int dh)
    {
        var pattern = new float[T * T];
        var z = new float[T * d];
        Gemm.Multiply(Matrix.Of(qkv.AsSpan(head * dh), T, dh, 3 * d), Matrix.Of(qkv.AsSpan(d + head * dh), T, dh, 3 * d).T, Matrix.Into(pattern, T, T), accumulate: false, threads: 1);
        for (int i = 0; i < T; i++)
        {
            var row = pattern.AsSpan(i * T, T);
            var visible = row[..(i + 1)];
            TensorPrimitives.Multiply(visible, 1f / MathF.Sqrt(dh), visible);
            Softmax.Apply(visible, visible);
            row[(i + 1)..].Clear();
        }
        Gemm.Multiply(Matrix.Of(pattern, T, T), Matrix.Of(qkv.AsSpan(2 * d + head * dh), T, dh, 3 * d), Matrix.Into(z.AsSpan(head * dh), T, dh, d), accumulate: false, threads: 1);
        return (pattern, z);
    }

    [Theory]
    [InlineData(130, "gradient")]
    [InlineData(300, "gradient")]
    [InlineData(300, "half")]
    [InlineData(200, "ah")]
    public void BlockedBackwardIsTheFullProductsToRounding(int tokens, string rule)
    {
        var shares = rule switch { "ah" => AttentionShares.AttentionHeadRule, "half" => AttentionShares.HalfRule, _ => AttentionShares.Gradient };
        int heads = 2, dh = 64, d = heads * dh, T = tokens;
        var rng = new Random(tokens);
        float[] Random(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var qkv = Random(T * 3 * d);
        var dz = Random(T * d);
        for (int h = 0; h < heads; h++)
        {
            var pattern = new float[T * T];
            Attention.Forward(qkv, pattern, new float[T * d], T, h, d, dh);
            var blocked = Random(T * 3 * d);   // garbage: every element of the head's slices must be written
            Attention.Backward(qkv, pattern, dz, blocked, T, h, d, dh, shares);
            var full = FullBackward(qkv, pattern, dz, T, h, d, dh, shares);
            for (int i = 0; i < T; i++)
                for (int part = 0; part < 3; part++)
                    for (int j = 0; j < dh; j++)
                    {
                        int at = i * 3 * d + part * d + h * dh + j;
                        Assert.Equal(full[at], blocked[at], 1e-5 * Math.Max(1, Math.Abs(full[at])));
                    }
        }
    }

    /// <summary>The backward on the whole T×T (the kernel before row blocks): dv = Aᵀdz, dS = softmax'(dz·vᵀ), dq = dS·k, dk = dSᵀ·q.</summary>
    private static float[] FullBackward(float[] qkv, float[] pattern, float[] dz, int T, int head, int d, int dh, AttentionShares shares)
    {
        var dqkv = new float[T * 3 * d];
        var q = Matrix.Of(qkv.AsSpan(head * dh), T, dh, 3 * d);
        var k = Matrix.Of(qkv.AsSpan(d + head * dh), T, dh, 3 * d);
        var v = Matrix.Of(qkv.AsSpan(2 * d + head * dh), T, dh, 3 * d);
        var dzh = Matrix.Of(dz.AsSpan(head * dh), T, dh, d);
        Gemm.Multiply(Matrix.Of(pattern, T, T).T, dzh, Matrix.Into(dqkv.AsSpan(2 * d + head * dh), T, dh, 3 * d), accumulate: false, threads: 1);
        float qk = shares.Pattern * shares.QueryKey / MathF.Sqrt(dh);
        var dS = new float[T * T];
        Gemm.Multiply(dzh, v.T, Matrix.Into(dS, T, T), accumulate: false, threads: 1);
        for (int i = 0; i < T; i++)
        {
            var a = pattern.AsSpan(i * T, i + 1);
            var row = dS.AsSpan(i * T, T);
            float dot = TensorPrimitives.Dot<float>(a, row[..(i + 1)]);
            for (int j = 0; j < T; j++) row[j] = j <= i ? a[j] * (row[j] - dot) * qk : 0;
        }
        Gemm.Multiply(Matrix.Of(dS, T, T), k, Matrix.Into(dqkv.AsSpan(head * dh), T, dh, 3 * d), accumulate: false, threads: 1);
        Gemm.Multiply(Matrix.Of(dS, T, T).T, q, Matrix.Into(dqkv.AsSpan(d + head * dh), T, dh, 3 * d), accumulate: false, threads: 1);
        for (int i = 0; i < T; i++)
            for (int j = 0; j < dh; j++) dqkv[i * 3 * d + 2 * d + head * dh + j] *= shares.Value;
        return dqkv;
    }
}
