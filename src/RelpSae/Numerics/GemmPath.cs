using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RelpSae.Numerics;

/// <summary>Which micro-kernel runs a product. Tests force each; everything else uses <see cref="Best"/>.</summary>
internal enum GemmPath
{
    Best,
    Vector512,
    Vector256,
    Scalar,
}

internal static class GemmPaths
{
    /// <summary>The fastest kernel this machine accelerates.</summary>
    public static readonly GemmPath Fastest =
        Vector512.IsHardwareAccelerated ? GemmPath.Vector512
        : Vector256.IsHardwareAccelerated && Fma.IsSupported ? GemmPath.Vector256
        : GemmPath.Scalar;

    public static GemmPath Resolve(GemmPath path) => path == GemmPath.Best ? Fastest : path;

    /// <summary>Floats per vector of the kernel.</summary>
    public static int Width(GemmPath path) => Resolve(path) switch
    {
        GemmPath.Vector512 => Vector512Ops.Width,
        GemmPath.Vector256 => Vector256Ops.Width,
        _ => ScalarOps.Width,
    };

    /// <summary>The kernel's tile: rows (MR) and columns (NR).</summary>
    public static (int Rows, int Cols) Tile(GemmPath path) => Resolve(path) switch
    {
        GemmPath.Vector512 => (Vector512Ops.Rows, Vector512Ops.Vecs * Vector512Ops.Width),
        GemmPath.Vector256 => (Vector256Ops.Rows, Vector256Ops.Vecs * Vector256Ops.Width),
        _ => (ScalarOps.Rows, ScalarOps.Vecs * ScalarOps.Width),
    };
}
