using System.Runtime.Intrinsics;
using RelpSae.Model;

namespace RelpSae.Sae;

/// <summary>
/// The k largest positive entries of a row (ties: the lower index wins), by a size-k min-heap: one pass,
/// no allocation, O(n log k), chunks that cannot enter a full heap skipped by one vector comparison. Non-positive entries are skipped because ReLU would zero them anyway.
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
        for (int start = 0; start < row.Length; start += lanes)
        {
            int end = Math.Min(start + lanes, row.Length);
            // Once the heap is full, only an entry above its smallest can enter (a later index never
            // wins a tie), and in most chunks none is: one vector comparison skips them.
            if (size == k && end - start == lanes && allowed.IsEmpty &&
                !Vector256.GreaterThanAny(Vector256.Create(row.Slice(start, lanes)), Vector256.Create(row[heap[0]])))
                continue;
            for (int j = start; j < end; j++)
            {
                float v = row[j];
                if (!(v > 0) || (!allowed.IsEmpty && !allowed[j])) continue;
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
