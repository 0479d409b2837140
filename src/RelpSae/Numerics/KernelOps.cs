using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using System.Runtime.Intrinsics.X86;

namespace RelpSae.Numerics;

/// <summary>
/// The few vector operations the GEMM micro-kernel needs, plus its tile shape, as static members of a
/// struct: the kernel is written once, generic over <typeparamref name="T"/>, and the JIT specialises
/// it per vector type with every call inlined and every tile-shape test folded away.
/// </summary>
internal interface IKernelOps<T> where T : struct
{
    /// <summary>Floats per vector.</summary>
    static abstract int Width { get; }
    /// <summary>Rows of C per micro-tile (MR): A values broadcast each step.</summary>
    static abstract int Rows { get; }
    /// <summary>Vectors across one micro-tile row (1..3); NR = Vecs·Width.</summary>
    static abstract int Vecs { get; }
    static abstract unsafe T Load(float* p);
    static abstract unsafe void Store(float* p, T v);
    static abstract T Splat(float x);
    static abstract T Add(T x, T y);
    /// <summary>x·y + z.</summary>
    static abstract T MulAdd(T x, T y, T z);
    /// <summary>The sums of the lanes of four vectors, in one: each the sum that <c>Vector512.Sum</c> (or the width's own) gives.</summary>
    static abstract Vector128<float> Sums(T a, T b, T c, T d);
}

/// <summary>AVX-512: 8×48 tile, 24 zmm accumulators + 3 B vectors + 1 broadcast of the 32 registers.</summary>
internal readonly struct Vector512Ops : IKernelOps<Vector512<float>>
{
    public static int Width => Vector512<float>.Count;
    public static int Rows => 8;
    public static int Vecs => 3;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector512<float> Load(float* p) => Vector512.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(float* p, Vector512<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Splat(float x) => Vector512.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> Add(Vector512<float> x, Vector512<float> y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector512<float> MulAdd(Vector512<float> x, Vector512<float> y, Vector512<float> z) =>
        Vector512.FusedMultiplyAdd(x, y, z);

    /// <summary>
    /// <c>Vector512.Sum</c>'s additions (within each 128-bit lane (x0 + x1) + (x2 + x3), then (L0 + L1) + (L2 + L3)), four
    /// vectors at a time: a dot product of 64 values, its sum done alone, took as long as its sixteen multiply-adds.
    /// </summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sums(Vector512<float> a, Vector512<float> b, Vector512<float> c, Vector512<float> d)
    {
        var ab = Avx512F.Shuffle(a, b, 0x88) + Avx512F.Shuffle(a, b, 0xDD);     // by lane: a0+a1, a2+a3, b0+b1, b2+b3
        var cd = Avx512F.Shuffle(c, d, 0x88) + Avx512F.Shuffle(c, d, 0xDD);
        var l = Avx512F.Shuffle(ab, cd, 0x88) + Avx512F.Shuffle(ab, cd, 0xDD);  // by lane: its sums of a, b, c, d
        var h = Avx512F.Shuffle4x128(l, l, 0b00_00_10_00) + Avx512F.Shuffle4x128(l, l, 0b00_00_11_01);   // L0+L1, L2+L3
        return h.GetLower().GetLower() + h.GetLower().GetUpper();
    }
}

/// <summary>AVX2 + FMA: 6×16 tile, 12 ymm accumulators + 2 + 1 of the 16 registers AVX2 machines have.</summary>
internal readonly struct Vector256Ops : IKernelOps<Vector256<float>>
{
    public static int Width => Vector256<float>.Count;
    public static int Rows => 6;
    public static int Vecs => 2;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe Vector256<float> Load(float* p) => Vector256.Load(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(float* p, Vector256<float> v) => v.Store(p);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Splat(float x) => Vector256.Create(x);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> Add(Vector256<float> x, Vector256<float> y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector256<float> MulAdd(Vector256<float> x, Vector256<float> y, Vector256<float> z) =>
        Vector256.FusedMultiplyAdd(x, y, z);
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sums(Vector256<float> a, Vector256<float> b, Vector256<float> c, Vector256<float> d) =>
        Vector128.Create(Vector256.Sum(a), Vector256.Sum(b), Vector256.Sum(c), Vector256.Sum(d));
}

/// <summary>Plain floats, for machines without either vector unit: a 4×3 tile of scalar accumulators.</summary>
internal readonly struct ScalarOps : IKernelOps<float>
{
    public static int Width => 1;
    public static int Rows => 4;
    public static int Vecs => 3;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe float Load(float* p) => *p;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static unsafe void Store(float* p, float v) => *p = v;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Splat(float x) => x;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float Add(float x, float y) => x + y;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static float MulAdd(float x, float y, float z) => x * y + z;
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public static Vector128<float> Sums(float a, float b, float c, float d) => Vector128.Create(a, b, c, d);
}
