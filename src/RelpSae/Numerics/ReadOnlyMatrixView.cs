namespace RelpSae.Numerics;

/// <summary>
/// A row-major matrix in someone else's floats, as a product reads it: <see cref="Rows"/>×<see cref="Cols"/>,
/// either stored so (rows <see cref="Ld"/> apart) or, <see cref="Transposed"/>, stored Cols×Rows and read
/// through its transpose. A description, not a copy: a ref struct, so building one allocates nothing.
/// Made by <see cref="Matrix.Of(ReadOnlySpan{float}, int, int, int)"/>; <see cref="T"/> reads it transposed.
/// </summary>
public readonly ref struct ReadOnlyMatrixView
{
    internal ReadOnlyMatrixView(ReadOnlySpan<float> data, int rows, int cols, int ld, bool transposed)
    {
        Data = data;
        Rows = rows;
        Cols = cols;
        Ld = ld;
        Transposed = transposed;
    }

    internal ReadOnlySpan<float> Data { get; }
    /// <summary>Rows as read (those of the transpose when <see cref="Transposed"/>).</summary>
    public int Rows { get; }
    /// <summary>Columns as read.</summary>
    public int Cols { get; }
    /// <summary>Floats from one stored row to the next.</summary>
    internal int Ld { get; }
    /// <summary>Read through the transpose of what is stored: element (i, j) is stored at j·Ld + i.</summary>
    internal bool Transposed { get; }

    internal int StoredRows => Transposed ? Cols : Rows;
    internal int StoredCols => Transposed ? Rows : Cols;

    /// <summary>The same floats read transposed: Cols×Rows.</summary>
    public ReadOnlyMatrixView T => new(Data, Cols, Rows, Ld, !Transposed);
}
