using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RelpSae.Numerics;

/// <summary>
/// tanh in place over 512-bit vectors: tanh x = sign(x)·(−z/(z + 2)) with z = e^(−2|x|) − 1 (TensorPrimitives' form) on
/// <see cref="Exp"/>. Within 2⁻²² of tanh x absolutely (the test holds it); z cancels as |x| shrinks, so relatively less
/// near 0 (Gemma-2's soft-caps, its only use, add it to values of their own size).
/// </summary>
internal struct Tanh : IVectorFunction
{
    public static void Apply(Span<float> x) => VectorMap.Apply<Tanh>(x, x);

    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Of(Vector512<float> x)
    {
        var z = Exp.Of(Vector512.Create(-2f) * Vector512.Abs(x)) - Vector512<float>.One;
        var sign = x.AsUInt32() & Vector512.Create(0x8000_0000u);
        return (sign ^ (-z / (z + Vector512.Create(2f))).AsUInt32()).AsSingle();
    }
}
