using System.Numerics.Tensors;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;

namespace RelpSae.Numerics;

/// <summary>
/// What a packed weight's panels hold. bfloat16 and float16 weights stay 16 bits wide in memory (half the
/// bytes of float32, and half the stream a few-row product waits on) and are widened to float32 a block at a
/// time as a product reads them: widening is exact, and the sums are float32 as for float32 panels.
/// </summary>
public enum PanelElement
{
    Float32,
    BFloat16,
    Float16,
}

internal static unsafe class PanelElements
{
    public static int Size(this PanelElement element) => element == PanelElement.Float32 ? sizeof(float) : sizeof(ushort);

    /// <summary>dst[0..count) = the float32 values of the <paramref name="count"/> elements at <paramref name="src"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public static void Widen(PanelElement element, byte* src, int count, float* dst)
    {
        switch (element)
        {
            case PanelElement.Float32:
                new ReadOnlySpan<float>(src, count).CopyTo(new Span<float>(dst, count));
                break;
            case PanelElement.Float16:
                TensorPrimitives.ConvertToSingle(new ReadOnlySpan<Half>(src, count), new Span<float>(dst, count));
                break;
            default:
                WidenBFloat16((ushort*)src, count, dst);
                break;
        }
    }

    /// <summary>bfloat16 is the upper half of a float32: each element shifted back into place, 32 at a time.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private static void WidenBFloat16(ushort* src, int count, float* dst)
    {
        int i = 0;
        if (Vector512.IsHardwareAccelerated)
            for (; i + 32 <= count; i += 32)
            {
                var (lo, hi) = Vector512.Widen(Vector512.Load(src + i));
                (lo << 16).AsSingle().Store(dst + i);
                (hi << 16).AsSingle().Store(dst + i + 16);
            }
        else if (Vector256.IsHardwareAccelerated)
            for (; i + 16 <= count; i += 16)
            {
                var (lo, hi) = Vector256.Widen(Vector256.Load(src + i));
                (lo << 16).AsSingle().Store(dst + i);
                (hi << 16).AsSingle().Store(dst + i + 8);
            }
        for (; i < count; i++) dst[i] = BitConverter.Int32BitsToSingle(src[i] << 16);
    }

    /// <summary>
    /// The <paramref name="count"/> floats at <paramref name="src"/> in <paramref name="element"/>'s width, rounded to
    /// nearest even as torch's <c>.to(torch.bfloat16)</c> rounds: exact for values that were widened from it.
    /// </summary>
    public static void Narrow(PanelElement element, float* src, int count, byte* dst)
    {
        switch (element)
        {
            case PanelElement.Float32:
                new ReadOnlySpan<float>(src, count).CopyTo(new Span<float>(dst, count));
                break;
            case PanelElement.Float16:
                TensorPrimitives.ConvertToHalf(new ReadOnlySpan<float>(src, count), new Span<Half>(dst, count));
                break;
            default:
                for (int i = 0; i < count; i++) ((ushort*)dst)[i] = ToBFloat16(src[i]);
                break;
        }
    }

    /// <summary>Round to nearest, ties to even, on the 16 bits dropped (NaN stays a quiet NaN).</summary>
    public static ushort ToBFloat16(float x)
    {
        uint bits = BitConverter.SingleToUInt32Bits(x);
        if (float.IsNaN(x)) return (ushort)((bits >> 16) | 0x40);
        return (ushort)((bits + 0x7FFF + ((bits >> 16) & 1)) >> 16);
    }
}
