using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RelpSae.Numerics;

/// <summary>
/// An element-wise function of 512-bit vectors; a struct, so that each map compiles to a loop of its own. Its
/// <c>Of</c> is marked for inlining and calls nothing (its e^x is <see cref="Exp"/>, inlined too): the loop then keeps
/// every value in registers. A call in it (Vector512.Exp is one) passes its vectors through stack slots, which x64 keeps
/// only 16-byte aligned; Zen 4 does not forward a store split across cache lines to the load that follows, and GELU's
/// forward of 16 × 3072 values took 125 µs instead of 54 on the one thread of two whose slots fell so.
/// </summary>
internal interface IVectorFunction
{
    static abstract Vector512<float> Of(Vector512<float> x);
}

/// <summary>
/// y = f(x) element by element over 512-bit vectors, the last vector (overlapping the one before it) computed from the
/// values as given before anything is stored; so in place too, each value's bits its own wherever it lies. A span
/// shorter than a vector goes through one vector padded with zeros.
/// </summary>
internal static class VectorMap
{
    /// <summary>y = f(x), y holding at least as many values as x.</summary>
    public static void Apply<F>(ReadOnlySpan<float> x, Span<float> y) where F : struct, IVectorFunction
    {
        int n = x.Length, w = Vector512<float>.Count;
        if (n < w)
        {
            Span<float> padded = stackalloc float[w];
            x.CopyTo(padded);
            F.Of(Vector512.Create(padded)).CopyTo(padded);
            padded[..n].CopyTo(y);
            return;
        }
        var last = F.Of(Vector512.Create(x[^w..]));
        for (int i = 0; i + w <= n; i += w) F.Of(Vector512.Create(x.Slice(i, w))).CopyTo(y.Slice(i, w));
        last.CopyTo(y[(n - w)..]);
    }
}
