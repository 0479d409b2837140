using System.Numerics;
using System.Numerics.Tensors;
using System.Runtime.InteropServices;

namespace RelpSae.Formats;

/// <summary>
/// Widens raw little-endian elements of any <see cref="DType"/> to float or double: floats are
/// widened exactly, integers converted (large 64-bit values round), booleans become 0 or 1.
/// </summary>
internal static class ElementConverter
{
    /// <summary>
    /// Converts <paramref name="source"/> (exactly destination.Length elements of <paramref name="type"/>),
    /// a chunk starting at element <paramref name="firstIndex"/> of the tensor, so errors give the tensor's index.
    /// </summary>
    public static void Convert<T>(DType type, ReadOnlySpan<byte> source, Span<T> destination, string what, long firstIndex = 0)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        if (source.Length != (long)destination.Length * type.Size())
            throw new RelpSaeException($"{what}: {source.Length} bytes do not hold {destination.Length} {type} elements");
        switch (type)
        {
            case DType.BOOL:
                if (source.ContainsAnyExcept((byte)0, (byte)1))
                    throw new RelpSaeException($"{what}: a BOOL element is neither 0 nor 1");
                Widen<byte, T>(source, destination);
                break;
            case DType.U8: Widen<byte, T>(source, destination); break;
            case DType.I8: Widen<sbyte, T>(source, destination); break;
            case DType.I16: Widen<short, T>(source, destination); break;
            case DType.U16: Widen<ushort, T>(source, destination); break;
            case DType.F16: Widen<Half, T>(source, destination); break;
            case DType.BF16: WidenBFloat16(MemoryMarshal.Cast<byte, ushort>(source), destination); break;
            case DType.I32: Widen<int, T>(source, destination); break;
            case DType.U32: Widen<uint, T>(source, destination); break;
            case DType.F32: Widen<float, T>(source, destination); break;
            case DType.F64:
                Widen<double, T>(source, destination);
                EnsureNoOverflow(MemoryMarshal.Cast<byte, double>(source), destination, what, firstIndex);
                break;
            case DType.I64: Widen<long, T>(source, destination); break;
            case DType.U64: Widen<ulong, T>(source, destination); break;
            default: throw new RelpSaeException($"{what}: unsupported dtype {type}");
        }
    }

    private static void Widen<TFrom, T>(ReadOnlySpan<byte> source, Span<T> destination)
        where TFrom : unmanaged, INumberBase<TFrom>
        where T : unmanaged, IFloatingPointIeee754<T> =>
        TensorPrimitives.ConvertTruncating(MemoryMarshal.Cast<byte, TFrom>(source), destination);

    // bfloat16 is the upper half of a float32: shifting the bits back is exact.
    private static void WidenBFloat16<T>(ReadOnlySpan<ushort> source, Span<T> destination)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < source.Length; i++)
            destination[i] = T.CreateTruncating(BitConverter.Int32BitsToSingle(source[i] << 16));
    }

    /// <summary>A finite double that became infinite in float32 is an error of its own, not "Infinity" weights.</summary>
    private static void EnsureNoOverflow<T>(ReadOnlySpan<double> source, ReadOnlySpan<T> destination, string what, long firstIndex)
        where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < source.Length; i++)
            if (double.IsFinite(source[i]) && !T.IsFinite(destination[i]))
                throw new RelpSaeException($"{what}: element {firstIndex + i} is {source[i]:R}, beyond float32's range (it overflows on conversion)");
    }

    /// <summary>Throws, naming the tensor and the first bad index, when a value is NaN or infinite.</summary>
    public static void EnsureFinite<T>(ReadOnlySpan<T> values, string what, long firstIndex = 0) where T : unmanaged, IFloatingPointIeee754<T>
    {
        for (int i = 0; i < values.Length; i++)
            if (!T.IsFinite(values[i]))
                throw new RelpSaeException($"{what}: element {firstIndex + i} is {values[i]} (NaN or infinite weights)");
    }
}
