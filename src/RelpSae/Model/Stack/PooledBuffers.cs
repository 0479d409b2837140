using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// Buffers a pass rents from the model's pool and gives back when it is disposed: one block's kept activations,
/// or a backward pass's work buffers. Pooled arrays come back with stale contents, so every buffer here is
/// written before it is read.
/// </summary>
public abstract class PooledBuffers(FloatPool pool)
{
    private readonly List<float[]> rented = [];

    /// <summary>An array of <paramref name="length"/> floats from the pool, given back by <see cref="ReturnTo"/>.</summary>
    protected float[] Rent(long length)
    {
        if (length > Array.MaxLength) throw new RelpSaeException($"a buffer of {length} floats is larger than one array can hold: use fewer tokens or a smaller batch");
        var array = pool.Rent((int)length);
        rented.Add(array);
        return array;
    }

    internal void ReturnTo(FloatPool target)
    {
        foreach (var array in rented) target.Return(array);
        rented.Clear();
    }
}
