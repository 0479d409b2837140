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
    /// C[m×n] = op(A)·op(B) (or C += … when <paramref name="accumulate"/>), all row-major.
    /// op(A) is A[m×k] (lda ≥ k) or, transposed, Aᵀ with A stored [k×m] (lda ≥ m); likewise op(B)
    /// is B[k×n] (ldb ≥ n) or Bᵀ with B stored [n×k] (ldb ≥ k). C must not overlap A or B.
    /// </summary>
    public static void Multiply(int m, int n, int k,
        ReadOnlySpan<float> a, int lda, bool transA,
        ReadOnlySpan<float> b, int ldb, bool transB,
        Span<float> c, int ldc, bool accumulate = false) =>
        Multiply(m, n, k, a, lda, transA, b, ldb, transB, c, ldc, accumulate, GemmPath.Best, Threads.Count);

    /// <summary>As the public overload, with the kernel and the thread count chosen by the caller.</summary>
    internal static unsafe void Multiply(int m, int n, int k,
        ReadOnlySpan<float> a, int lda, bool transA,
        ReadOnlySpan<float> b, int ldb, bool transB,
        Span<float> c, int ldc, bool accumulate, GemmPath path, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfNegative(n);
        ArgumentOutOfRangeException.ThrowIfNegative(k);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        CheckOperand("A", a.Length, transA ? k : m, transA ? m : k, lda);
        CheckOperand("B", b.Length, transB ? n : k, transB ? k : n, ldb);
        CheckOperand("C", c.Length, m, n, ldc);
        if (m == 0 || n == 0) return;
        fixed (float* pa = a, pb = b, pc = c)
        {
            var g = new GemmProblem(m, n, k, pa, lda, transA, pb, ldb, transB, pc, ldc, accumulate);
            if (k == 0)
            {
                if (!accumulate)
                    for (int i = 0; i < m; i++) new Span<float>(g.CAt(i, 0), n).Clear();
                return;
            }
            Run(g, GemmPaths.Resolve(path), threads);
        }
    }

    /// <summary>
    /// C[m×n] = op(A)·B (or C += …) with B packed beforehand (n = B.Cols, k = B.Rows), on
    /// <see cref="Threads.Count"/> threads; op(A) and C as in the general overload.
    /// </summary>
    public static void Multiply(int m, ReadOnlySpan<float> a, int lda, bool transA, PackedMatrix b,
        Span<float> c, int ldc, bool accumulate = false) => Multiply(m, a, lda, transA, b, c, ldc, accumulate, Threads.Count);

    internal static unsafe void Multiply(int m, ReadOnlySpan<float> a, int lda, bool transA, PackedMatrix b,
        Span<float> c, int ldc, bool accumulate, int threads) => Multiply(m, a, lda, transA, b, default, c, ldc, accumulate, threads);

    /// <summary>
    /// C[m×n] = op(A)·B + bias, the row <paramref name="bias"/> (n values) added to every row of C as the
    /// first block of the shared dimension is stored: the same sums as C filled with the bias and then
    /// accumulated, without the pass that fills it.
    /// </summary>
    public static void MultiplyAddBias(int m, ReadOnlySpan<float> a, int lda, PackedMatrix b, ReadOnlySpan<float> bias, Span<float> c, int ldc)
    {
        if (bias.Length != b.Cols) throw new ArgumentException($"the bias has {bias.Length} values for {b.Cols} columns", nameof(bias));
        if (b.Rows == 0)
        {
            for (int i = 0; i < m; i++) bias.CopyTo(c.Slice(i * ldc, b.Cols));
            return;
        }
        Multiply(m, a, lda, false, b, bias, c, ldc, accumulate: false, Threads.Count);
    }

    private static unsafe void Multiply(int m, ReadOnlySpan<float> a, int lda, bool transA, PackedMatrix b, ReadOnlySpan<float> bias,
        Span<float> c, int ldc, bool accumulate, int threads)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(m);
        ArgumentOutOfRangeException.ThrowIfLessThan(threads, 1);
        CheckOperand("A", a.Length, transA ? b.Rows : m, transA ? m : b.Rows, lda);
        CheckOperand("C", c.Length, m, b.Cols, ldc);
        if (m == 0) return;
        fixed (float* pa = a, pc = c, pbias = bias)
            Run(GemmProblem.WithPacked(m, pa, lda, transA, b, pc, ldc, accumulate, pbias), b.Path, threads);
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
        if (g.PackedB == null && g.M < SkinnyRows(g.TransB)) SkinnyGemm.Run<T, O>(g);
        else GemmDriver.Run<T, O>(g);
    }

    /// <summary>A rows×cols operand stored row-major with leading dimension ld must fit its span.</summary>
    internal static void CheckOperand(string name, int length, int rows, int cols, int ld)
    {
        if (ld < Math.Max(1, cols))
            throw new ArgumentOutOfRangeException($"ld{name.ToLowerInvariant()}", ld, $"{name} is stored {rows}×{cols}: its leading dimension must be at least {Math.Max(1, cols)}");
        long needed = rows == 0 || cols == 0 ? 0 : (long)(rows - 1) * ld + cols;
        if (length < needed)
            throw new ArgumentException($"{name} is stored {rows}×{cols} with leading dimension {ld}: needs {needed} floats, got {length}", name.ToLowerInvariant());
    }
}
