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

    /// <summary>After a pass that gave back many arrays of one length, the spares it left unused go before anything a later pass reuses.</summary>
    [Fact]
    public void ArraysGivenBackLongestAgoGoFirst()
    {
        var pool = new FloatPool(capacityFloats: 30);
        float[] first = new float[10], second = new float[10], third = new float[10];
        foreach (var a in new[] { first, second, third }) pool.Return(a);
        var reused = pool.Rent(10);
        Assert.Same(third, reused);
        pool.Return(reused);
        pool.Return(new float[20]);    // 50 > 30: the spares given back longest ago, first and second, make room
        Assert.Equal(30, pool.HeldFloats);
        Assert.Same(third, pool.Rent(10));
        Assert.NotSame(second, pool.Rent(10));
    }

    /// <summary>A pass that had more lent at once than the capacity gets all of it back next time, rather than allocating the excess afresh.</summary>
    [Fact]
    public void WhatOnePassHeldAtOnceIsKept()
    {
        var pool = new FloatPool(capacityFloats: 10);
        var lent = Enumerable.Range(0, 3).Select(_ => pool.Rent(10)).ToList();
        lent.ForEach(pool.Return);
        Assert.Equal(30, pool.HeldFloats);
        Assert.Equal(lent.ToHashSet(), Enumerable.Range(0, 3).Select(_ => pool.Rent(10)).ToHashSet());
    }
}
