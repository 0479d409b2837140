using System.Runtime.Intrinsics;

namespace RelpSae.Numerics;

/// <summary>
/// Single-precision matrix multiply on row-major matrices: packed operands, cache blocking and a
/// register-blocked micro-kernel (Vector512, Vector256 or scalar, whichever the machine accelerates),
/// split over <see cref="Threads.Count"/> threads when the product is large enough to gain from it.
/// Safe to call from several threads at once; see <see cref="Threads.Count"/> for how calls nest.
/// </summary>
public static unsafe class Gemm
{
    /// <summary>Multiply-adds below which a product stays on the calling thread (waking a worker costs more).</summary>
    internal const long ParallelThreshold = 1 << 20;

    /// <summary>
    /// Products with fewer rows than this read B unpacked (<see cref="SkinnyGemm"/>); measured
    /// crossovers: 8 rows for B, ~48 for Bᵀ (whose packing is a transpose).
    /// </summary>
    internal static int SkinnyRows(bool transB) => transB ? 48 : 8;

    /// <summary>
    /// C = A·B (or C += A·B when <paramref name="accumulate"/>): A m×k, B k×n and C m×n as described
    /// (<see cref="Matrix"/>; A or B may be read transposed). C must not overlap A or B.
    /// </summary>
    public static void Multiply(ReadOnlyMatrixView a, ReadOnlyMatrixView b, MatrixView c, bool accumulate = false) =>
        Multiply(a, b, c, accumulate, Threads.Count);

    /// <summary>As the public overload, on <paramref name="threads"/> threads (1: a caller already running one product per thread) and the kernel chosen by the caller.</summary>
    internal static unsafe void Multiply(ReadOnlyMatrixView a, ReadOnlyMatrixView b, MatrixView c, bool accumulate, int threads, GemmPath path = GemmPath.Best)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        CheckOperand("A", a);
        CheckOperand("B", b);
        CheckOperand("C", c);
        CheckShapes(a, b.Rows, b.Cols, c);
        int m = c.Rows, n = c.Cols, k = a.Cols;
        if (m == 0 || n == 0) return;
        fixed (float* pa = a.Data, pb = b.Data, pc = c.Data)
        {
            var g = new GemmProblem(m, n, k, pa, a.Ld, a.Transposed, pb, b.Ld, b.Transposed, pc, c.Ld, accumulate);
            if (k == 0)
            {
                if (!accumulate)
                    for (int i = 0; i < m; i++) new Span<float>(g.CAt(i, 0), n).Clear();
                return;
            }
            Run(g, GemmPaths.Resolve(path), threads);
        }
    }

    /// <summary>C = A·B (or C += …) with B packed beforehand; A and C as in the general overload.</summary>
    public static void Multiply(ReadOnlyMatrixView a, PackedMatrix b, MatrixView c, bool accumulate = false) =>
        Multiply(a, b, default, c, accumulate, Threads.Count);

    internal static void Multiply(ReadOnlyMatrixView a, PackedMatrix b, MatrixView c, bool accumulate, int threads) =>
        Multiply(a, b, default, c, accumulate, threads);

    /// <summary>
    /// C = A·B + bias, the row <paramref name="bias"/> (B.Cols values) added to every row of C as the
    /// first block of the shared dimension is stored: the same sums as C filled with the bias and then
    /// accumulated, without the pass that fills it.
    /// </summary>
    public static void MultiplyAddBias(ReadOnlyMatrixView a, PackedMatrix b, ReadOnlySpan<float> bias, MatrixView c)
    {
        if (bias.Length != b.Cols) throw new ArgumentException($"the bias has {bias.Length} values for {b.Cols} columns", nameof(bias));
        Multiply(a, b, bias, c, accumulate: false, Threads.Count);
    }

    private static unsafe void Multiply(ReadOnlyMatrixView a, PackedMatrix b, ReadOnlySpan<float> bias, MatrixView c, bool accumulate, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        CheckOperand("A", a);
        CheckOperand("C", c);
        CheckShapes(a, b.Rows, b.Cols, c);
        if (c.Rows == 0) return;
        fixed (float* pa = a.Data, pc = c.Data, pbias = bias)
            Run(GemmProblem.WithPacked(c.Rows, pa, a.Ld, a.Transposed, b, pc, c.Ld, accumulate, pbias), b.Path, threads);
    }

    /// <summary>
    /// C = A·Pᵀ (or C += …) with P packed (<see cref="PackedMatrix.T"/>): a weight's backward product, read from the
    /// panels its forward product uses, a block transposed at a time (no second packed copy of the weight).
    /// </summary>
    public static void Multiply(ReadOnlyMatrixView a, PackedTranspose b, MatrixView c, bool accumulate = false)
    {
        CheckOperand("A", a);
        CheckOperand("C", c);
        CheckShapes(a, b.Rows, b.Cols, c);
        if (c.Rows == 0) return;
        fixed (float* pa = a.Data, pc = c.Data)
            Run(GemmProblem.WithPackedTranspose(c.Rows, pa, a.Ld, a.Transposed, b.Of, pc, c.Ld, accumulate), b.Of.Path, Threads.Count);
    }

    private static unsafe void Run(in GemmProblem g, GemmPath path, int threads)
    {
        var job = ParallelGemm.Plan(g, path, threads);
        if (job.Parts > 1 && WorkerTeam.TryRun(job.Parts, &ParallelGemm.RunPart, &job)) return;
        RunSingle(g, path);
    }

    internal static void RunSingle(in GemmProblem g, GemmPath path)
    {
        switch (path)
        {
            case GemmPath.Vector512: RunSingle<Vector512<float>, Vector512Ops>(g); break;
            case GemmPath.Vector256: RunSingle<Vector256<float>, Vector256Ops>(g); break;
            default: RunSingle<float, ScalarOps>(g); break;
        }
    }

    private static void RunSingle<T, O>(in GemmProblem g) where T : struct where O : IKernelOps<T>
    {
        // A packed B is read where it lies by the driver: the skinny path's reason to exist is gone.
        if (g.Panels == null && g.M < SkinnyRows(g.TransB)) SkinnyGemm.Run<T, O>(g);
        else if (NarrowGemm.Handles(g, O.Width, O.Rows)) NarrowGemm.Run<T, O>(g);
        else if (typeof(T) == typeof(Vector512<float>) && PanelRows.Handles(g)) PanelRows.Run(g);
        else if (typeof(T) == typeof(Vector512<float>) && PanelRowsTransposed.Handles(g)) PanelRowsTransposed.Run(g);
        else if (typeof(T) == typeof(Vector512<float>) && PanelsBroadcast.Handles(g)) PanelsBroadcast.Run(g);
        else GemmDriver.Run<T, O>(g);
    }

    /// <summary>A, B (bRows×bCols) and C must chain: A's columns are B's rows, C is A's rows by B's columns.</summary>
    private static void CheckShapes(ReadOnlyMatrixView a, int bRows, int bCols, MatrixView c)
    {
        if (bRows != a.Cols)
            throw new ArgumentException($"A is {a.Rows}×{a.Cols} but B is {bRows}×{bCols}: A's columns must be B's rows", "b");
        if (c.Rows != a.Rows || c.Cols != bCols)
            throw new ArgumentException($"C is {c.Rows}×{c.Cols} but A·B is {a.Rows}×{bCols}", "c");
    }

    internal static void CheckOperand(string name, ReadOnlyMatrixView x) => CheckOperand(name, x.Data.Length, x.StoredRows, x.StoredCols, x.Ld);

    private static void CheckOperand(string name, MatrixView x) => CheckOperand(name, x.Data.Length, x.Rows, x.Cols, x.Ld);

    /// <summary>A rows×cols operand stored row-major with leading dimension ld must fit its span.</summary>
    private static void CheckOperand(string name, int length, int rows, int cols, int ld)
    {
        if (rows < 0 || cols < 0)
            throw new ArgumentOutOfRangeException(name.ToLowerInvariant(), $"{name} is {rows}×{cols}: sizes cannot be negative");
        if (ld < Math.Max(1, cols))
            throw new ArgumentOutOfRangeException($"ld{name.ToLowerInvariant()}", ld, $"{name} is stored {rows}×{cols}: its leading dimension must be at least {Math.Max(1, cols)}");
        long needed = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;
        if (length < needed)
            throw new ArgumentException($"{name} is stored {rows}×{cols} with leading dimension {ld}: needs {needed} floats, got {length}", name.ToLowerInvariant());
    }
}
