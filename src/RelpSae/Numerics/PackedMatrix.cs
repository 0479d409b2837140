using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace RelpSae.Numerics;

/// <summary>
/// Reads rows [<paramref name="first"/>, first + count) of a stored row-major matrix, widened to float32, into
/// <paramref name="into"/> (count × columns): how a weight is packed straight from its file, a band at a time.
/// </summary>
public delegate void RowBandReader(int first, int count, Span<float> into);

/// <summary>
/// A fixed right-hand operand op(B) [k×n] — a weight matrix — copied once into the order the GEMM
/// micro-kernel reads it: KC-deep blocks, each a row of NR-wide panels. Products with it skip the
/// per-call packing of B, which for GPT-2's weights was a copy (or, for Bᵀ, a transpose) of the whole
/// matrix on every call: 10–25% of a 128-row product, and 154 MB per forward for the unembedding.
/// The panels may hold 16-bit elements (<see cref="PanelElement"/>), widened a block at a time as they are read.
/// It is the model's only copy of a weight: the backward's product with op(B)ᵀ reads the same panels
/// (<see cref="T"/>), transposing a block at a time, and <see cref="Column"/> reads one column back.
/// </summary>
public sealed unsafe class PackedMatrix
{
    private readonly float[] storage;   // float-sized cells whatever the element: a byte[] would stop at 2 GB

    /// <summary>Packs op(B), k×n as described (read transposed when a weight is stored [n×k]), as float32 panels.</summary>
    public PackedMatrix(ReadOnlyMatrixView b) : this(b, GemmPath.Best) { }

    /// <summary>Packs op(B) into panels of <paramref name="element"/> (bfloat16 or float16: rounded to nearest even).</summary>
    public PackedMatrix(ReadOnlyMatrixView b, PanelElement element) : this(b, GemmPath.Best, element) { }

    internal PackedMatrix(ReadOnlyMatrixView b, GemmPath path, PanelElement element = PanelElement.Float32)
        : this(b.Rows, b.Cols, path, element)
    {
        Gemm.CheckOperand("B", b);
        var narrowing = NarrowingBuffer();
        fixed (float* pb = b.Data, tmp = narrowing)
            PackBlocks(pb, b.Ld, b.Transposed, 0, Rows, 0, Cols, tmp);
    }

    /// <summary>
    /// Packs op(B) of a stored matrix [<paramref name="storedRows"/> × <paramref name="storedCols"/>] read by
    /// <paramref name="read"/> a band of rows at a time, op(B) = the stored matrix or, <paramref name="transposed"/>,
    /// its transpose: only one band is ever held as float32 beside the panels.
    /// </summary>
    public PackedMatrix(int storedRows, int storedCols, bool transposed, RowBandReader read, PanelElement element)
        : this(transposed ? storedCols : storedRows, transposed ? storedRows : storedCols, GemmPath.Best, element)
    {
        // A band is the stored rows one block's worth of panels reads: NC columns of op(B) (transposed), or KC of its rows.
        int band = transposed ? GemmDriver.NC : GemmDriver.KC;
        var scratch = GC.AllocateUninitializedArray<float>((int)Math.Min((long)band * storedCols, (long)storedRows * storedCols), pinned: true);
        var narrowing = NarrowingBuffer();
        fixed (float* s = scratch, tmp = narrowing)
            for (int r0 = 0; r0 < storedRows; r0 += band)
            {
                int rows = Math.Min(band, storedRows - r0);
                read(r0, rows, scratch.AsSpan(0, rows * storedCols));
                if (transposed) PackBlocks(s - (nint)r0 * storedCols, storedCols, true, 0, Rows, r0, rows, tmp);
                else PackBlocks(s - (nint)r0 * storedCols, storedCols, false, r0, rows, 0, Cols, tmp);
            }
    }

    private PackedMatrix(int k, int n, GemmPath path, PanelElement element)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(k, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        Path = GemmPaths.Resolve(path);
        Element = element;
        Rows = k;
        Cols = n;
        Nr = GemmPaths.Tile(Path).Cols;
        PaddedCols = (n + Nr - 1) / Nr * Nr;
        storage = GC.AllocateUninitializedArray<float>(checked((int)(((long)k * PaddedCols * element.Size() + 3) / 4 + 16)), pinned: true);
        nint start = (nint)Unsafe.AsPointer(ref MemoryMarshal.GetArrayDataReference(storage));
        Data = (byte*)((start + 63) & ~(nint)63);
    }

    /// <summary>
    /// Packs the part of op(B) in rows [p0, p0 + k) and columns [j0, j0 + n) (whole KC blocks deep, whole panels
    /// wide unless it ends the matrix) from float32 at <paramref name="b"/>, addressed as op(B)'s element (0, 0);
    /// 16-bit panels are packed into <paramref name="tmp"/> (<see cref="NarrowingBuffer"/>) and narrowed from there.
    /// </summary>
    private void PackBlocks(float* b, int ld, bool transposed, int p0, int k, int j0, int n, float* tmp)
    {
        for (int p = p0; p < p0 + k; p += GemmDriver.KC)
            for (int j = j0; j < j0 + n; j += GemmDriver.NC)
            {
                int kc = Math.Min(GemmDriver.KC, Rows - p), nc = Math.Min(GemmDriver.NC, j0 + n - j);
                float* src = transposed ? b + (nint)j * ld + p : b + (nint)p * ld + j;
                byte* dst = Block(p, kc, j);
                Packing.PackB(src, ld, transposed, kc, nc, Nr, tmp == null ? (float*)dst : tmp);
                if (tmp != null) PanelElements.Narrow(Element, tmp, kc * RoundUp(nc), dst);
            }
    }

    /// <summary>One block's float32 panels, for 16-bit panels to be narrowed from (none for float32 ones).</summary>
    private float[]? NarrowingBuffer() =>
        Element == PanelElement.Float32 ? null : GC.AllocateUninitializedArray<float>(GemmDriver.KC * Math.Min(GemmDriver.NC, PaddedCols), pinned: true);

    /// <summary>k: the rows of op(B).</summary>
    public int Rows { get; }
    /// <summary>n: the columns of op(B).</summary>
    public int Cols { get; }
    /// <summary>What the panels hold.</summary>
    public PanelElement Element { get; }
    /// <summary>The kernel the panels were cut for; products with this matrix run on it.</summary>
    internal GemmPath Path { get; }
    /// <summary>Columns per panel (the kernel's NR).</summary>
    internal int Nr { get; }
    /// <summary>n rounded up to whole panels.</summary>
    internal int PaddedCols { get; }
    /// <summary>
    /// The first panel, 64-byte aligned in the pinned storage this object keeps alive. The block at
    /// depth p0 (a multiple of KC, kc deep) starts at element p0·PaddedCols; its panel at column j at j·kc.
    /// </summary>
    internal byte* Data { get; }

    /// <summary>Bytes held (padding included): what the packed copy costs in memory.</summary>
    public long Bytes => storage.LongLength * sizeof(float);

    /// <summary>op(B)ᵀ [n×k], read from these panels: <c>Gemm.Multiply(a, b.T, c)</c> is a·op(B)ᵀ.</summary>
    public PackedTranspose T => new(this);

    /// <summary>The panels of the block at depth p0 (kc deep) from column j (a multiple of NR).</summary>
    internal byte* Block(int p0, int kc, int j) => Data + ((nint)p0 * PaddedCols + (nint)j * kc) * Element.Size();

    /// <summary>Column <paramref name="j"/> of op(B) (k values), widened: a weight's row when op(B) is its transpose.</summary>
    public void Column(int j, Span<float> into)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(j);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(j, Cols);
        if (into.Length != Rows) throw new ArgumentException($"a column has {Rows} values, not {into.Length}", nameof(into));
        int panel = j / Nr * Nr, lane = j - panel, size = Element.Size();
        fixed (float* dst = into)
            for (int p0 = 0; p0 < Rows; p0 += GemmDriver.KC)
            {
                int kc = Math.Min(GemmDriver.KC, Rows - p0);
                byte* at = Block(p0, kc, panel) + lane * size;
                // Element by element, one panel row apart: a call per element was 1 % of a GPT-2 pass (embedding rows).
                float* to = dst + p0;
                switch (Element)
                {
                    case PanelElement.Float32:
                        for (int p = 0; p < kc; p++) to[p] = ((float*)at)[(nint)p * Nr];
                        break;
                    case PanelElement.BFloat16:
                        for (int p = 0; p < kc; p++) to[p] = BitConverter.Int32BitsToSingle(((ushort*)at)[(nint)p * Nr] << 16);
                        break;
                    default:
                        for (int p = 0; p < kc; p++) to[p] = (float)((Half*)at)[(nint)p * Nr];
                        break;
                }
            }
    }

    /// <summary>op(B) [k×n] as float32, row-major (what was packed, once widened).</summary>
    public float[] ToArray()
    {
        var result = new float[(long)Rows * Cols];
        var column = new float[Rows];
        for (int j = 0; j < Cols; j++)
        {
            Column(j, column);
            for (int p = 0; p < Rows; p++) result[(long)p * Cols + j] = column[p];
        }
        return result;
    }

    private int RoundUp(int n) => (n + Nr - 1) / Nr * Nr;
}

/// <summary>The transpose of a <see cref="PackedMatrix"/>'s op(B), for products that read its panels the other way.</summary>
public readonly struct PackedTranspose(PackedMatrix of)
{
    public PackedMatrix Of { get; } = of;
    public int Rows => Of.Cols;
    public int Cols => Of.Rows;
}
