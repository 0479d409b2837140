namespace RelpSae.Text;

/// <summary>
/// Streaming shuffle: keeps up to Size items, and for each new item emits a random held one and keeps
/// the new one in its place; at the end the rest come out in random order. Each output is a permutation
/// of the input, fixed by the seed (System.Random with a seed is stable across .NET versions). Generic so
/// it can mix contexts or activation rows; the producer must not reuse an item's storage after yielding it.
/// </summary>
public sealed class ShuffleBuffer<T>(int size, int seed)
{
    public int Size { get; } = size >= 1 ? size : throw new RelpSaeException($"shuffle buffer size {size} must be at least 1");
    public int Seed { get; } = seed;

    public IEnumerable<T> Shuffle(IEnumerable<T> items)
    {
        var random = new Random(Seed);
        var held = new List<T>(Math.Min(Size, 1 << 16));
        foreach (var item in items)
        {
            if (held.Count < Size) { held.Add(item); continue; }
            var j = random.Next(Size);
            yield return held[j];
            held[j] = item;
        }
        // Fisher–Yates on what is left.
        for (var i = held.Count - 1; i >= 0; i--)
        {
            var j = random.Next(i + 1);
            yield return held[j];
            held[j] = held[i];
        }
    }
}
