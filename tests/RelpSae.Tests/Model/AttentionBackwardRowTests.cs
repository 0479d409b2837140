using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Tests.Model;

/// <summary>The one-query-row attention backward gives what the full backward gives on a dz that is zero elsewhere.</summary>
public class AttentionBackwardRowTests
{
    public static TheoryData<int, int, string> Cases => new()
    {
        { 5, 4, "gradient" }, { 5, 0, "gradient" }, { 5, 2, "ah" }, { 5, 3, "half" },
        { 60, 59, "gradient" }, { 60, 17, "half" }, { 60, 59, "ah" },   // 60 rows: the full products take the packed path
        { 200, 199, "gradient" }, { 200, 70, "gradient" },   // 200 rows: the full backward runs in row blocks
    };

    [Theory]
    [MemberData(nameof(Cases))]
    public void EqualsTheFullBackwardOnADzWithOneRow(int tokens, int query, string rule)
    {
        var shares = rule switch { "ah" => AttentionShares.AttentionHeadRule, "half" => AttentionShares.HalfRule, _ => AttentionShares.Gradient };
        int heads = 3, dh = 8, d = heads * dh, T = tokens;
        var rng = new Random(tokens + query);
        float[] Random(int n) => Enumerable.Range(0, n).Select(_ => (float)(rng.NextDouble() * 2 - 1)).ToArray();
        var qkv = Random(T * 3 * d);
        var dz = new float[T * d];
        Random(d).CopyTo(dz, query * d);
        for (int h = 0; h < heads; h++)
        {
            var pattern = new float[T * T];
            Attention.Forward(qkv, pattern, new float[T * d], T, h, d, dh);
            var expected = Random(T * 3 * d);   // garbage: both must write every element of the head's slices
            var actual = (float[])expected.Clone();
            Attention.Backward(qkv, pattern, dz, expected, T, h, d, dh, shares);
            Attention.BackwardRow(qkv, pattern, dz, actual, T, query, h, d, dh, shares);
            for (int i = 0; i < expected.Length; i++) Assert.Equal(expected[i], actual[i], 1e-6);
        }
    }
}
