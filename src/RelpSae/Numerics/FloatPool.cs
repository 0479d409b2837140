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

    /// <summary>Gives an array back for reuse; dropped (left to the GC) when the pool is full.</summary>
    public void Return(float[] array)
    {
        if (array.Length == 0) return;
        lock (gate)
        {
            if (held + array.Length > capacityFloats) return;
            if (!free.TryGetValue(array.Length, out var stack)) free[array.Length] = stack = new Stack<float[]>();
            stack.Push(array);
            held += array.Length;
        }
    }
}
