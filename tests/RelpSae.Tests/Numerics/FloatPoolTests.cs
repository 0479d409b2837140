using RelpSae.Numerics;

namespace RelpSae.Tests.Numerics;

public class FloatPoolTests
{
    [Fact]
    public void ReturnedArrayIsLentAgainForItsLengthOnly()
    {
        var pool = new FloatPool(capacityFloats: 100);
        var a = pool.Rent(10);
        Assert.Equal(10, a.Length);
        pool.Return(a);
        Assert.Equal(10, pool.HeldFloats);
        Assert.NotSame(a, pool.Rent(11));
        Assert.Same(a, pool.Rent(10));
        Assert.Equal(0, pool.HeldFloats);
    }

    [Fact]
    public void FullPoolDropsWhatComesBack()
    {
        var pool = new FloatPool(capacityFloats: 15);
        pool.Return(new float[10]);
        pool.Return(new float[10]);  // would hold 20 > 15: left to the GC
        Assert.Equal(10, pool.HeldFloats);
    }

    [Fact]
    public void NewShapeTakesOverFromOldOnes()
    {
        var pool = new FloatPool(capacityFloats: 25);
        var old1 = new float[10];
        pool.Return(old1);
        pool.Return(new float[10]);
        var fresh = new float[20];
        pool.Return(fresh);           // 40 > 25: both arrays of 10 make room
        Assert.Equal(20, pool.HeldFloats);
        Assert.Same(fresh, pool.Rent(20));
        Assert.NotSame(old1, pool.Rent(10));
    }
}
