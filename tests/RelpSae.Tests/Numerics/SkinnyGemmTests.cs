using System.Runtime.Intrinsics;
using RelpSae.Numerics;

namespace RelpSae.Tests.Numerics;

public class SkinnyGemmTests
{
    /// <summary>
    /// A few rows times an unpacked Bᵀ are dot products: each of C's entries its lanes of multiply-adds over whole
    /// vectors, summed as the vector type's Sum sums them, then the terms past the last whole vector one at a time
    /// (added to C last when accumulating). The dots are taken two rows and four columns at a time and summed four in a
    /// vector, which must not move a bit of any of them.
    /// </summary>
    private static float Dot(GemmCase g, int i, int j, GemmPath path)
    {
        int w = path switch { GemmPath.Vector512 => 16, GemmPath.Vector256 => 8, _ => 1 }, kv = g.K - g.K % w;
        float[] a = [.. Enumerable.Range(0, g.K).Select(p => g.OpA(i, p))], b = [.. Enumerable.Range(0, g.K).Select(p => g.OpB(p, j))];
        float s;
        if (w == 16)
        {
            var d = Vector512<float>.Zero;
            for (int p = 0; p < kv; p += w) d = Vector512.FusedMultiplyAdd(Vector512.Create(a.AsSpan(p, w)), Vector512.Create(b.AsSpan(p, w)), d);
            s = Vector512.Sum(d);
        }
        else if (w == 8)
        {
            var d = Vector256<float>.Zero;
            for (int p = 0; p < kv; p += w) d = Vector256.FusedMultiplyAdd(Vector256.Create(a.AsSpan(p, w)), Vector256.Create(b.AsSpan(p, w)), d);
            s = Vector256.Sum(d);
        }
        else
        {
            s = 0;
            for (int p = 0; p < kv; p++) s = a[p] * b[p] + s;
        }
        for (int p = kv; p < g.K; p++) s += a[p] * b[p];
        return s;
    }

    public static TheoryData<string> Paths()
    {
        var paths = new TheoryData<string> { nameof(GemmPath.Scalar) };
        if (Vector256.IsHardwareAccelerated) paths.Add(nameof(GemmPath.Vector256));
        if (Vector512.IsHardwareAccelerated) paths.Add(nameof(GemmPath.Vector512));
        return paths;
    }

    [Theory]
    [MemberData(nameof(Paths))]
    public void DotsHaveTheirDefinitionsBits(string pathName)
    {
        var path = Enum.Parse<GemmPath>(pathName);
        int cases = 0;
        foreach (int m in new[] { 1, 2, 3, 7, 47 })
            foreach (int k in new[] { 5, 16, 64, 70 })
                foreach (int n in new[] { 4, 13 })
                    foreach (bool transA in new[] { false, true })
                        foreach (bool accumulate in new[] { false, true })
                        {
                            var g = new GemmCase(m, n, k, transA, transB: true, pad: 3, seed: ++cases);
                            var c = g.Run(accumulate, path);
                            for (int i = 0; i < m; i++)
                                for (int j = 0; j < n - n % 4; j++)   // the ragged columns take the tiled path
                                {
                                    float expected = Dot(g, i, j, path);
                                    if (accumulate) expected = g.C0[i * g.Ldc + j] + expected;
                                    Assert.True(BitConverter.SingleToInt32Bits(c[i * g.Ldc + j]) == BitConverter.SingleToInt32Bits(expected),
                                        $"{path} C[{i},{j}] of {m}×{n}×{k} (transA={transA}, accumulate={accumulate}): {c[i * g.Ldc + j]:R}, by definition {expected:R}");
                                }
                        }
    }
}
