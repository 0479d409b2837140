namespace RelpSae.Numerics;

/// <summary>
/// Float arrays of exact lengths kept for reuse by the next pass of the same shape. A fresh large
/// array costs its zeroing and a page fault per 4 KB on first touch: the profile of an 8×128 forward
/// showed 60–90 ms of page faults for its 206 MB of logits alone. Arrays come back with stale
/// contents, so only buffers that are written before they are read belong here. Thread-safe.
/// </summary>
public sealed class FloatPool(long capacityFloats)
{
    private readonly Dictionary<int, Stack<float[]>> free = [];
    private readonly Lock gate = new();
    private long held;

    /// <summary>Floats held for reuse now.</summary>
    public long HeldFloats { get { lock (gate) return held; } }

    /// <summary>An array of exactly <paramref name="length"/> floats, contents unspecified.</summary>
    public float[] Rent(int length)
    {
        lock (gate)
            if (free.TryGetValue(length, out var stack) && stack.TryPop(out var array))
            {
                held -= length;
                return array;
            }
        return GC.AllocateUninitializedArray<float>(length);
    }

    /// <summary>
    /// Gives an array back for reuse. When the pool is full, arrays of other lengths make room, the
    /// largest first: a pass of a new shape takes over from earlier shapes (the bench's 8×128 buffers
    /// otherwise kept every later 1×128 pass allocating afresh). Failing that it is left to the GC.
    /// </summary>
    public void Return(float[] array)
    {
        if (array.Length == 0) return;
        lock (gate)
        {
            while (held + array.Length > capacityFloats && DropOne(except: array.Length)) { }
            if (held + array.Length > capacityFloats) return;
            if (!free.TryGetValue(array.Length, out var stack)) free[array.Length] = stack = new Stack<float[]>();
            stack.Push(array);
            held += array.Length;
        }
    }

    /// <summary>Drops one held array of the largest length other than <paramref name="except"/>; false if there is none.</summary>
    private bool DropOne(int except)
    {
        int longest = 0;
        foreach (var (length, stack) in free)
            if (length != except && stack.Count > 0 && length > longest) longest = length;
        if (longest == 0) return false;
        free[longest].Pop();
        held -= longest;
        return true;
    }
}
