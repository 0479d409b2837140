namespace RelpSae.Model;

/// <summary>
/// The rows [batch·tokens] a step of the pass works on: every row, or only some (the last block past its
/// attention pattern when only some positions are read, and its backward, where only the metric rows carry
/// gradient). Every step it is used for works row by row, and a packed product's row does not depend on the
/// other rows multiplied with it, so a selected row comes out as in the pass over every row, bit for bit.
/// Work buffers of a backward step hold the selected rows packed together (row i for row <c>this[i]</c>).
/// </summary>
internal readonly struct RowSet
{
    private readonly int[]? selected;

    private RowSet(int count, int[]? selected)
    {
        Count = count;
        this.selected = selected;
    }

    /// <summary>Rows [0, count).</summary>
    public static RowSet All(int count) => new(count, null);

    /// <summary>The given rows, in that order.</summary>
    public static RowSet Of(int[] rows) => new(rows.Length, rows);

    public int Count { get; }
    public bool IsAll => selected is null;

    /// <summary>The row of the whole layout that packed row <paramref name="i"/> stands for.</summary>
    public int this[int i] => selected is null ? i : selected[i];

    /// <summary>
    /// Calls <paramref name="step"/>(row, packed row, count) over runs of rows of <paramref name="width"/> values:
    /// every row in one band per thread (<see cref="RowBands"/>), or each selected row alone.
    /// </summary>
    public void For(int width, Action<int, int, int> step)
    {
        if (selected is null)
        {
            RowBands.For(Count, width, (r0, r1) => step(r0, r0, r1 - r0));
            return;
        }
        for (int i = 0; i < selected.Length; i++) step(selected[i], i, 1);
    }

    /// <summary>The selected rows of <paramref name="src"/> packed into <paramref name="buffer"/>; every row: <paramref name="src"/> itself.</summary>
    public float[] Gather(float[] src, int width, float[] buffer)
    {
        if (selected is null) return src;
        for (int i = 0; i < selected.Length; i++) src.AsSpan(selected[i] * width, width).CopyTo(buffer.AsSpan(i * width, width));
        return buffer;
    }

    /// <summary>Packed row i of <paramref name="packed"/> into row this[i] of <paramref name="dst"/>; the other rows of dst untouched.</summary>
    public void Scatter(float[] packed, int width, float[] dst)
    {
        for (int i = 0; i < Count; i++) packed.AsSpan(i * width, width).CopyTo(dst.AsSpan(this[i] * width, width));
    }
}
