namespace RelpSae.Numerics;

/// <summary>
/// A row-major matrix a product writes: <see cref="Rows"/>×<see cref="Cols"/> in someone else's floats,
/// rows <see cref="Ld"/> apart (a column slice of a wider buffer when Ld exceeds Cols). A ref struct:
/// building one allocates nothing. Made by <see cref="Matrix.Into(Span{float}, int, int, int)"/>.
/// </summary>
public readonly ref struct MatrixView
{
    internal MatrixView(Span<float> data, int rows, int cols, int ld)
    {
        Data = data;
        Rows = rows;
        Cols = cols;
        Ld = ld;
    }

    internal Span<float> Data { get; }
    public int Rows { get; }
    public int Cols { get; }
    /// <summary>Floats from one row to the next.</summary>
    internal int Ld { get; }

    /// <summary>What one product wrote, read by the next.</summary>
    public static implicit operator ReadOnlyMatrixView(MatrixView m) => new(m.Data, m.Rows, m.Cols, m.Ld, transposed: false);
}
