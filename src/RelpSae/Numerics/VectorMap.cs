using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RelpSae.Numerics;

/// <summary>
/// An element-wise function of 512-bit vectors; a struct, so that each map compiles to a loop of its own. Its
/// <c>Of</c> is marked for inlining: not inlined (GELU's slope once was not), its e^x's slots lie in a frame of its own, which
/// <see cref="VectorMap"/> does not place.
/// </summary>
internal interface IVectorFunction
{
    static abstract Vector512<float> Of(Vector512<float> x);
}

/// <summary>
/// y = f(x) element by element over 512-bit vectors, the last vector (overlapping the one before it) computed from the
/// values as given before anything is stored, as TensorPrimitives ends a span; so in place too, and with its bits. A span
/// shorter than a vector goes through one vector padded with zeros.
/// <para>
/// The loop runs where its 512-bit slots lie on cache lines. <see cref="Vector512.Exp(Vector512{float})"/> is not inlined:
/// each call passes its argument through a slot at the stack pointer and its result through one in the frame, which the
/// JIT places at multiples of 64 from the stack pointer at the call into the frame; x64 keeps that pointer only 16-byte
/// aligned. A slot 16 bytes off a line splits its 256-bit halves across lines, and Zen 4 does not forward such a store to
/// the load that follows: GELU's forward of 16 × 3072 values, on that e^x, took 125 µs instead of 54 on the one thread of
/// two whose call chain left it so (the other waited for it), and TensorPrimitives' softmax of 512 values 0.91 µs instead
/// of 0.38.
/// So a call finds where both kinds of slot fall (a 512-bit local of its own, and one of a function it calls) and, off
/// lines, returns by how much, to be called again from a stack moved that much; each thread starts where its last call ran.
/// </para>
/// </summary>
internal static class VectorMap
{
    /// <summary>y = f(x), y holding at least as many values as x; a span shorter than a vector through one padded vector.</summary>
    public static void Apply<F>(ReadOnlySpan<float> x, Span<float> y) where F : struct, IVectorFunction
    {
        if (x.Length < Vector512<float>.Count)
        {
            Span<float> padded = stackalloc float[Vector512<float>.Count];
            x.CopyTo(padded);
            F.Of(Vector512.Create(padded)).CopyTo(padded);
            padded[..x.Length].CopyTo(y);
            return;
        }
        // Moved as the last call on this thread had to be: most calls come down the same chain.
        ref var moves = ref LastMoves<F>.OnThisThread;
        for (int attempt = 0; attempt < 2; attempt++)
        {
            var off = Moved<F>(x, y, moves.Frame, moves.Call);
            if (off == default) return;
            int frame = (moves.Frame + off.Frame) & 63;
            moves = new Offsets(frame, (moves.Frame + moves.Call + off.Call - frame) & 63);
        }
        Vectors<F>(x, y);   // a JIT that lays frames out otherwise: the same values
    }

    private static class LastMoves<F>
    {
        [ThreadStatic] public static Offsets OnThisThread;
    }

    /// <summary>Bytes past a line: of the frame's slots, and of the stack pointer at its calls.</summary>
    private readonly record struct Offsets(int Frame, int Call);

    /// <summary><see cref="OnLines"/> from a stack <paramref name="frame"/> bytes lower, its calls <paramref name="call"/> bytes lower.</summary>
    [MethodImpl(MethodImplOptions.NoInlining), SkipLocalsInit]
    private static unsafe Offsets Moved<F>(ReadOnlySpan<float> x, Span<float> y, int frame, int call) where F : struct, IVectorFunction
    {
        byte* pad = stackalloc byte[16 + frame];
        var off = OnLines<F>(x, y, call);
        pad[0] = 0;   // the pad outlives the call (no tail call)
        return off;
    }

    /// <summary>Maps x where its slots lie on lines (returning zeros); elsewhere returns at once, saying how far off they are.</summary>
    [MethodImpl(MethodImplOptions.NoInlining), SkipLocalsInit]
    private static unsafe Offsets OnLines<F>(ReadOnlySpan<float> x, Span<float> y, int call) where F : struct, IVectorFunction
    {
        Vector512<float> probe = default;
        byte* pad = stackalloc byte[16 + call];   // moves the stack pointer, where the argument slot is, below the frame's slots
        var off = new Offsets((int)((nint)Unsafe.AsPointer(ref probe) & 63), (int)(SlotOfCaller() & 63));
        if (off.Frame == 0 && off.Call == 0) Vectors<F>(x, y);
        pad[0] = 0;
        return off;
    }

    /// <summary>A 512-bit local's address, which lies at a multiple of 64 from the caller's stack pointer.</summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    private static unsafe nint SlotOfCaller()
    {
        Vector512<float> probe = default;
        return (nint)Unsafe.AsPointer(ref probe);
    }

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static void Vectors<F>(ReadOnlySpan<float> x, Span<float> y) where F : struct, IVectorFunction
    {
        int n = x.Length, w = Vector512<float>.Count;
        var last = F.Of(Vector512.Create(x[^w..]));
        for (int i = 0; i + w <= n; i += w) F.Of(Vector512.Create(x.Slice(i, w))).CopyTo(y.Slice(i, w));
        last.CopyTo(y[(n - w)..]);
    }
}
