namespace RelpSae.Formats;

/// <summary>The element types a checkpoint may store, named as safetensors names them.</summary>
public enum DType { BOOL, U8, I8, I16, U16, F16, BF16, I32, U32, F32, F64, I64, U64 }

public static class DTypes
{
    public static int Size(this DType type) => type switch
    {
        DType.BOOL or DType.U8 or DType.I8 => 1,
        DType.I16 or DType.U16 or DType.F16 or DType.BF16 => 2,
        DType.I32 or DType.U32 or DType.F32 => 4,
        _ => 8,
    };

    public static bool IsFloat(this DType type) => type is DType.F16 or DType.BF16 or DType.F32 or DType.F64;

    /// <summary>Parses a safetensors dtype name; null when the name is not one of ours.</summary>
    public static DType? Parse(string name) =>
        Enum.TryParse<DType>(name, ignoreCase: false, out var type) && Enum.IsDefined(type) && name == type.ToString() ? type : null;
}
