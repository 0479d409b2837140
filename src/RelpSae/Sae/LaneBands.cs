using System.Runtime.Intrinsics;
using RelpSae.Model;

namespace RelpSae.Sae;

/// <summary>
/// [0, length) split into one band per thread at whole vectors: a pass over a matrix's columns split this
/// way sums each column over the rows in the same order whatever the thread count (so training stays
/// bit-identical), and every band's vector loop starts on a vector boundary.
/// </summary>
internal static class LaneBands
{
    /// <summary>Calls <paramref name="band"/>(start, end) over bands covering [0, length); <paramref name="workPerEntry"/>
    /// (e.g. the rows a column pass visits) decides whether the pass is worth splitting.</summary>
    public static void For(int length, int workPerEntry, Action<int, int> band)
    {
        int lanes = Vector256<float>.Count, chunks = (length + lanes - 1) / lanes;
        RowBands.For(chunks, workPerEntry * lanes, (k0, k1) => band(k0 * lanes, Math.Min(k1 * lanes, length)));
    }
}
