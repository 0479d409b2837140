using System.Runtime.CompilerServices;

namespace RelpSae.Tests.Numerics;

/// <summary>Runs test code from a stack moved lower by a given number of bytes, to reach code that depends on where its frame falls.</summary>
internal static class StackDepth
{
    [MethodImpl(MethodImplOptions.NoInlining)]
    public static unsafe void Below(int bytes, Action work)
    {
        byte* pad = stackalloc byte[bytes];
        pad[0] = 1;
        work();
        Assert.Equal(1, pad[0]);
    }
}
