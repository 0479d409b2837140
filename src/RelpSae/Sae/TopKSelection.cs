using System.Runtime.Intrinsics;
using RelpSae.Model;

namespace RelpSae.Sae;

/// <summary>
/// The k largest positive entries of a row (ties: the lower index wins), by a size-k min-heap: no allocation,
/// O(n log k), entries below a floor that k entries reach and chunks that cannot enter a full heap skipped by
/// one vector comparison. Non-positive entries are skipped because ReLU would zero them anyway.
/// </summary>
internal static class TopKSelection
{
    /// <summary>Writes the indices of the (at most k) largest positive entries of <paramref name="row"/>,
    /// among those where <paramref name="allowed"/> is true (all when empty), into <paramref name="chosen"/>
    /// (length ≥ k); returns how many.</summary>
    public static int Select(ReadOnlySpan<float> row, int k, ReadOnlySpan<bool> allowed, Span<int> chosen)
    {
        var heap = chosen[..k];
        int size = 0, lanes = Vector256<float>.Count;
        float floor = allowed.IsEmpty ? Floor(row, k) : float.NegativeInfinity;
        for (int start = 0; start < row.Length; start += lanes)
        {
            int end = Math.Min(start + lanes, row.Length);
            // Only an entry at or above the floor can be chosen, and once the heap is full only one above
            // its smallest (a later index never wins a tie); most chunks hold none: one vector comparison skips them.
            if (end - start == lanes && allowed.IsEmpty && (size == k
                    ? !Vector256.GreaterThanAny(Vector256.Create(row.Slice(start, lanes)), Vector256.Create(row[heap[0]]))
                    : !Vector256.GreaterThanOrEqualAny(Vector256.Create(row.Slice(start, lanes)), Vector256.Create(floor))))
                continue;
            for (int j = start; j < end; j++)
            {
                float v = row[j];
                if (!(v > 0) || v < floor || (!allowed.IsEmpty && !allowed[j])) continue;
                if (size < k)
                {
                    heap[size] = j;
                    SiftUp(row, heap, size++);
                }
                else if (Worse(row, heap[0], j))
                {
                    heap[0] = j;
                    SiftDown(row, heap, size);
                }
            }
        }
        return size;
    }

    /// <summary>
    /// The smallest of the maxima of k disjoint blocks of the row: k entries reach it, so none below it is
    /// among the k largest. On 3072 pre-activations and k = 32 it leaves about 4k candidates, and the heap
    /// no longer fills with early entries that later ones push out (selection twice as fast).
    /// </summary>
    private static float Floor(ReadOnlySpan<float> row, int k)
    {
        int lanes = Vector256<float>.Count, block = row.Length / k / lanes * lanes;
        if (block == 0) return float.NegativeInfinity;
        float floor = float.PositiveInfinity;
        for (int b = 0; b < k; b++)
        {
            var max = Vector256.Create(row.Slice(b * block, lanes));
            for (int c = b * block + lanes; c < (b + 1) * block; c += lanes) max = Vector256.Max(max, Vector256.Create(row.Slice(c, lanes)));
            float blockMax = max[0];
            for (int j = 1; j < lanes; j++) blockMax = Math.Max(blockMax, max[j]);
            floor = Math.Min(floor, blockMax);
        }
        // A NaN block maximum proves nothing: no floor.
        return float.IsNaN(floor) ? float.NegativeInfinity : floor;
    }

    /// <summary>Keeps the k largest positive entries of each row of <paramref name="values"/> [n × width]
    /// and zeroes the rest; one band of rows per thread.</summary>
    public static unsafe void KeepTopK(Span<float> values, int width, int k)
    {
        fixed (float* first = values)
        {
            nint start = (nint)first;   // a span cannot enter the bands' closure; its pinned address can
            RowBands.For(values.Length / width, width, (r0, r1) =>
                KeepTopKRows(new Span<float>((float*)start + (long)r0 * width, (r1 - r0) * width), width, k));
        }
    }

    private static void KeepTopKRows(Span<float> values, int width, int k)
    {
        Span<int> chosen = k <= 512 ? stackalloc int[k] : new int[k];
        Span<float> kept = k <= 512 ? stackalloc float[k] : new float[k];
        for (int r = 0; r < values.Length / width; r++)
        {
            var row = values.Slice(r * width, width);
            int count = Select(row, k, default, chosen);
            for (int c = 0; c < count; c++) kept[c] = row[chosen[c]];
            row.Clear();
            for (int c = 0; c < count; c++) row[chosen[c]] = kept[c];
        }
    }

    // a is worse than b: smaller, or equal with a larger index.
    private static bool Worse(ReadOnlySpan<float> row, int a, int b) => row[a] < row[b] || (row[a] == row[b] && a > b);

    private static void SiftUp(ReadOnlySpan<float> row, Span<int> heap, int i)
    {
        while (i > 0)
        {
            int parent = (i - 1) / 2;
            if (!Worse(row, heap[i], heap[parent])) break;
            (heap[i], heap[parent]) = (heap[parent], heap[i]);
            i = parent;
        }
    }

    private static void SiftDown(ReadOnlySpan<float> row, Span<int> heap, int size)
    {
        int i = 0;
        while (true)
        {
            int left = 2 * i + 1, right = left + 1, worst = i;
            if (left < size && Worse(row, heap[left], heap[worst])) worst = left;
            if (right < size && Worse(row, heap[right], heap[worst])) worst = right;
            if (worst == i) return;
            (heap[i], heap[worst]) = (heap[worst], heap[i]);
            i = worst;
        }
    }
}
