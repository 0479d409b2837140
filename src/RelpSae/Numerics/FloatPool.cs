namespace RelpSae.Numerics;

/// <summary>
/// Float arrays of exact lengths kept for reuse by the next pass of the same shape. A fresh large
/// array costs its zeroing and a page fault per 4 KB on first touch: the profile of an 8×128 forward
/// showed 60–90 ms of page faults for its 206 MB of logits alone. Arrays come back with stale
/// contents, so only buffers that are written before they are read belong here. Thread-safe.
/// </summary>
public sealed class FloatPool(long capacityFloats)
{
    /// <summary>The arrays of one length, and when that length was last lent or given back.</summary>
    private sealed class Bucket
    {
        public readonly Stack<float[]> Arrays = new();
        public long LastUsed;
    }

    private readonly Dictionary<int, Bucket> buckets = [];
    private readonly Lock gate = new();
    private long held, clock;

    /// <summary>Floats held for reuse now.</summary>
    public long HeldFloats { get { lock (gate) return held; } }

    /// <summary>An array of exactly <paramref name="length"/> floats, contents unspecified.</summary>
    public float[] Rent(int length)
    {
        lock (gate)
            if (buckets.TryGetValue(length, out var bucket))
            {
                bucket.LastUsed = ++clock;
                if (bucket.Arrays.TryPop(out var array))
                {
                    held -= length;
                    return array;
                }
            }
        return GC.AllocateUninitializedArray<float>(length);
    }

    /// <summary>
    /// Gives an array back for reuse. When the pool is full, the lengths used longest ago make room:
    /// the shapes of earlier passes give way to the current one (with the largest-first rule it had
    /// before, a bench sequence of shapes kept evicting the buffers its next pass needed).
    /// Failing that the array is left to the GC.
    /// </summary>
    public void Return(float[] array)
    {
        if (array.Length == 0) return;
        lock (gate)
        {
            if (!buckets.TryGetValue(array.Length, out var bucket)) buckets[array.Length] = bucket = new Bucket();
            bucket.LastUsed = ++clock;
            while (held + array.Length > capacityFloats && DropOldest(except: bucket)) { }
            if (held + array.Length > capacityFloats) return;
            bucket.Arrays.Push(array);
            held += array.Length;
        }
    }

    /// <summary>Drops one array of the least recently used length other than <paramref name="except"/>'s; false if there is none.</summary>
    private bool DropOldest(Bucket except)
    {
        Bucket? oldest = null;
        foreach (var bucket in buckets.Values)
            if (bucket != except && bucket.Arrays.Count > 0 && (oldest is null || bucket.LastUsed < oldest.LastUsed)) oldest = bucket;
        if (oldest is null) return false;
        held -= oldest.Arrays.Pop().Length;
        return true;
    }
}
