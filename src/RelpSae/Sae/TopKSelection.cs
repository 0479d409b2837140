using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.Intrinsics;
using RelpSae.Model;

namespace RelpSae.Sae;

/// <summary>
/// The k largest positive entries of a row (ties: the lower index wins), without allocating: usually by
/// quickselect over the few entries at or above a floor that k entries reach, else by a size-k min-heap
/// (O(n log k), chunks that cannot enter the full heap skipped by one vector comparison). Non-positive
/// entries are skipped because ReLU would zero them anyway.
/// </summary>
internal static class TopKSelection
{
    /// <summary>Writes the indices of the (at most k) largest positive entries of <paramref name="row"/>,
    /// among those where <paramref name="allowed"/> is true (all when empty), into <paramref name="chosen"/>
    /// (length ≥ k); returns how many.</summary>
    public static int Select(ReadOnlySpan<float> row, int k, ReadOnlySpan<bool> allowed, Span<int> chosen)
    {
        if (allowed.IsEmpty && Floor(row, k) is var floor && floor > float.NegativeInfinity)
        {
            int count = SelectAboveFloor(row, k, floor, chosen);
            if (count >= 0) return count;
        }
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

    /// <summary>Candidates kept on the stack by <see cref="SelectAboveFloor"/>; more send the row to the heap.</summary>
    private const int MaxCandidates = 1024;

    /// <summary>
    /// The positive entries at or above <paramref name="floor"/> (a vector comparison skips chunks with none)
    /// are the candidates, in index order; the k-th largest of them, found by quickselect, is the bar: all
    /// above it are chosen, and of those equal to it the lowest indices. −1 when there are too many candidates.
    /// </summary>
    [SkipLocalsInit]
    private static int SelectAboveFloor(ReadOnlySpan<float> row, int k, float floor, Span<int> chosen)
    {
        Span<int> index = stackalloc int[MaxCandidates];
        Span<float> value = stackalloc float[MaxCandidates];
        Span<float> scratch = stackalloc float[MaxCandidates];
        int m = 0, lanes = Vector256<float>.Count, c = 0;
        var (floorVector, zero) = (Vector256.Create(floor), Vector256<float>.Zero);
        for (; c <= row.Length - lanes; c += lanes)
        {
            var v = Vector256.Create(row.Slice(c, lanes));
            uint bits = (Vector256.GreaterThanOrEqual(v, floorVector) & Vector256.GreaterThan(v, zero)).ExtractMostSignificantBits();
            if (bits == 0) continue;
            if (m + lanes > MaxCandidates) return -1;
            for (; bits != 0; bits &= bits - 1)
            {
                int j = c + BitOperations.TrailingZeroCount(bits);
                (index[m], value[m]) = (j, row[j]);
                m++;
            }
        }
        for (; c < row.Length; c++)
        {
            if (!(row[c] > 0 && row[c] >= floor)) continue;
            if (m == MaxCandidates) return -1;
            (index[m], value[m]) = (c, row[c]);
            m++;
        }
        if (m <= k)
        {
            index[..m].CopyTo(chosen);
            return m;
        }
        value[..m].CopyTo(scratch);
        float bar = KthLargest(scratch[..m], k);
        int above = 0;
        foreach (float v in value[..m]) if (v > bar) above++;
        int ties = k - above, count = 0;
        for (int q = 0; q < m; q++)
            if (value[q] > bar || (value[q] == bar && ties-- > 0)) chosen[count++] = index[q];
        return count;
    }

    /// <summary>The k-th largest of <paramref name="values"/> (reordered): quickselect with Hoare's partition
    /// around a median of three.</summary>
    private static float KthLargest(Span<float> values, int k)
    {
        int lo = 0, hi = values.Length - 1, target = k - 1;
        while (lo < hi)
        {
            float a = values[lo], b = values[(lo + hi) / 2], c = values[hi];
            float pivot = Math.Max(Math.Min(a, b), Math.Min(Math.Max(a, b), c));
            int i = lo, j = hi;
            while (i <= j)
            {
                while (values[i] > pivot) i++;
                while (values[j] < pivot) j--;
                if (i > j) break;
                (values[i], values[j]) = (values[j], values[i]);
                i++;
                j--;
            }
            if (target <= j) hi = j;
            else if (target >= i) lo = i;
            else return values[target];
        }
        return values[target];
    }

    /// <summary>
    /// The smallest of the maxima of k disjoint blocks of the row: k entries reach it, so none below it is
    /// among the k largest. On 3072 pre-activations and k = 32 it leaves about 4k candidates.
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
