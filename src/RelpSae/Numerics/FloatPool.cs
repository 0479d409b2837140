namespace RelpSae.Numerics;

/// <summary>
/// Float arrays of exact lengths kept for reuse by the next pass of the same shape. A fresh large
/// array costs its zeroing and a page fault per 4 KB on first touch: the profile of an 8×128 forward
/// showed 60–90 ms of page faults for its 206 MB of logits alone. Arrays come back with stale
/// contents, so only buffers that are written before they are read belong here. Thread-safe.
/// When full, the array given back longest ago goes first: after a RelP pass returned 30 blocks'
/// activations of each length, a forward reuses one array of each and the other 29 are the ones to drop
/// (dropping whole lengths by when a length was last used kept evicting what the next forward needed,
/// which then faulted in afresh on every pass: 1.55 s instead of 1.05 s for Llama at 8×128).
/// The pool holds at most <c>capacityFloats</c>, or more when one pass had more lent at once: a pass
/// that needs more than the capacity (a 30-block Llama keeping 1.35 GB of activations for its
/// backward at 8×128) would otherwise allocate and fault in the excess afresh on every pass (its RelP
/// pass ran at half the FMA peak), while holding what a pass already held at its peak adds nothing to
/// the process's peak memory.
/// </summary>
public sealed class FloatPool(long capacityFloats)
{
    /// <summary>The arrays of one length, the most recently given back last, each with when it was given back.</summary>
    private readonly Dictionary<int, List<(float[] Array, long Returned)>> buckets = [];
    private readonly Lock gate = new();
    private long held, clock, lent, peakLent;

    /// <summary>Floats held for reuse now.</summary>
    public long HeldFloats { get { lock (gate) return held; } }

    /// <summary>An array of exactly <paramref name="length"/> floats, contents unspecified.</summary>
    public float[] Rent(int length)
    {
        lock (gate)
        {
            lent += length;
            peakLent = Math.Max(peakLent, lent);
            if (buckets.TryGetValue(length, out var bucket) && bucket.Count > 0)
            {
                var array = bucket[^1].Array;
                bucket.RemoveAt(bucket.Count - 1);
                held -= length;
                return array;
            }
        }
        return GC.AllocateUninitializedArray<float>(length);
    }

    /// <summary>Gives an array back for reuse; when the pool is then over its capacity, the arrays given back longest ago are left to the GC.</summary>
    public void Return(float[] array)
    {
        if (array.Length == 0) return;
        lock (gate)
        {
            lent = Math.Max(0, lent - array.Length);
            if (!buckets.TryGetValue(array.Length, out var bucket)) buckets[array.Length] = bucket = [];
            bucket.Add((array, ++clock));
            held += array.Length;
            long capacity = Math.Max(capacityFloats, peakLent);
            while (held > capacity) DropOldest();
        }
    }

    /// <summary>Drops the array given back longest ago (the first of some bucket).</summary>
    private void DropOldest()
    {
        List<(float[] Array, long Returned)>? oldest = null;
        foreach (var bucket in buckets.Values)
            if (bucket.Count > 0 && (oldest is null || bucket[0].Returned < oldest[0].Returned)) oldest = bucket;
        held -= oldest![0].Array.Length;
        oldest.RemoveAt(0);
    }
}
