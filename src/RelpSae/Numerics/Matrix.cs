namespace RelpSae.Numerics;

/// <summary>
/// Names the operands of a product, so that a call reads as what it computes:
/// <c>Gemm.Multiply(Matrix.Of(x, rows, d), Matrix.Of(w, n, d).T, Matrix.Into(y, rows, n))</c> is y = x·wᵀ.
/// Shapes are checked by the product, which knows which operand (A, B or C) is at fault.
/// </summary>
public static class Matrix
{
    /// <summary>The rows×cols matrix stored row-major in <paramref name="data"/>, rows <paramref name="ld"/> apart, to be read.</summary>
    public static ReadOnlyMatrixView Of(ReadOnlySpan<float> data, int rows, int cols, int ld) => new(data, rows, cols, ld, transposed: false);

    /// <summary>The rows×cols matrix stored densely (rows <paramref name="cols"/> apart) in <paramref name="data"/>, to be read.</summary>
    public static ReadOnlyMatrixView Of(ReadOnlySpan<float> data, int rows, int cols) => Of(data, rows, cols, cols);

    /// <summary>The rows×cols matrix stored row-major in <paramref name="data"/>, rows <paramref name="ld"/> apart, to be written.</summary>
    public static MatrixView Into(Span<float> data, int rows, int cols, int ld) => new(data, rows, cols, ld);

    /// <summary>The rows×cols matrix stored densely in <paramref name="data"/>, to be written.</summary>
    public static MatrixView Into(Span<float> data, int rows, int cols) => Into(data, rows, cols, cols);
}
