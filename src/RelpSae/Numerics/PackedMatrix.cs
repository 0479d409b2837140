using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RelpSae.Numerics;

/// <summary>
/// A fixed right-hand operand op(B) [k×n] — a weight matrix — copied once into the order the GEMM
/// micro-kernel reads it: KC-deep blocks, each a row of NR-wide panels. Products with it skip the
/// per-call packing of B, which for GPT-2's weights was a copy (or, for Bᵀ, a transpose) of the whole
/// matrix on every call: 10–25% of a 128-row product, and 154 MB per forward for the unembedding.
/// </summary>
public sealed unsafe class PackedMatrix
{
    private readonly float[] storage;

    /// <summary>Packs op(B), k×n as described (read transposed when a weight is stored [n×k]).</summary>
    public PackedMatrix(ReadOnlyMatrixView b) : this(b, GemmPath.Best) { }

    internal PackedMatrix(ReadOnlyMatrixView b, GemmPath path)
    {
        int k = b.Rows, n = b.Cols;
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        Gemm.CheckOperand("B", b);
        Path = GemmPaths.Resolve(path);
        Rows = k;
        Cols = n;
        int nr = GemmPaths.Tile(Path).Cols;
        PaddedCols = (n + nr - 1) / nr * nr;
        storage = GC.AllocateUninitializedArray<float>(k * PaddedCols + 16, pinned: true);
        nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(storage));
        Data = (float*)((start + 63) & ~(nint)63);
        fixed (float* pb = b.Data)
            for (int p0 = 0; p0 < k; p0 += GemmDriver.KC)
            {
                float* block = b.Transposed ? pb + p0 : pb + (nint)p0 * b.Ld;
                Packing.PackB(block, b.Ld, b.Transposed, Math.Min(GemmDriver.KC, k - p0), n, nr, Data + (nint)p0 * PaddedCols);
            }
    }

    /// <summary>k: the rows of op(B).</summary>
    public int Rows { get; }
    /// <summary>n: the columns of op(B).</summary>
    public int Cols { get; }
    /// <summary>The kernel the panels were cut for; products with this matrix run on it.</summary>
    internal GemmPath Path { get; }
    /// <summary>n rounded up to whole panels.</summary>
    internal int PaddedCols { get; }
    /// <summary>
    /// The first panel, 64-byte aligned in the pinned storage this object keeps alive. The block at
    /// depth p0 (a multiple of KC, kc deep) starts at p0·PaddedCols; its panel at column j at j·kc.
    /// </summary>
    internal float* Data { get; }

    /// <summary>Floats held (padding included): what the packed copy costs in memory.</summary>
    public long Floats => storage.LongLength;
}
