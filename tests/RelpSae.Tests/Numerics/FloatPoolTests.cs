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
    public void LengthsUsedLongestAgoMakeRoom()
    {
        var pool = new FloatPool(capacityFloats: 40);
        var old = new float[10];
        pool.Return(old);
        var big = new float[20];
        pool.Return(big);              // held 30
        Assert.Same(big, pool.Rent(20));
        pool.Return(big);              // length 20 is now the more recent
        var other = new float[15];
        pool.Return(other);            // 45 > 40: the array of 10, used longest ago, makes room
        Assert.Equal(35, pool.HeldFloats);
        Assert.NotSame(old, pool.Rent(10));
        Assert.Same(big, pool.Rent(20));
        Assert.Same(other, pool.Rent(15));
    }
}
