using RelpSae.Numerics;

namespace RelpSae.Tests.Numerics;

public class GemmTests
{
    [Fact]
    public void SmallProductMatchesHandComputed()
    {
        float[] a = [1, 2, 3, 4, 5, 6];     // 2×3
        float[] b = [7, 8, 9, 10, 11, 12];  // 3×2
        var c = new float[4];
        Gemm.Multiply(2, 2, 3, a, 3, false, b, 2, false, c, 2);
        Assert.Equal([58f, 64f, 139f, 154f], c);
    }
}
