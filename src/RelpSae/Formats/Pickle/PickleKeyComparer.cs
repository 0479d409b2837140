namespace RelpSae.Formats.Pickle;

/// <summary>
/// Equality for pickle dict keys (string, long, bool, double) with hashes an attacker cannot make
/// collide: .NET's own hash of a long is the XOR of its halves, so keys like x&lt;&lt;32|x all land in
/// one bucket and a 1 MB pickle takes minutes to load. <see cref="HashCode"/> is seeded per process.
/// </summary>
internal sealed class PickleKeyComparer : IEqualityComparer<object>
{
    public static readonly PickleKeyComparer Instance = new();

    public new bool Equals(object? x, object? y) => object.Equals(x, y);

    public int GetHashCode(object key) => key switch
    {
        long n => Mix(n),
        double d => Mix(BitConverter.DoubleToInt64Bits(d == 0 ? 0 : d)),
        _ => HashCode.Combine(key),
    };

    private static int Mix(long n) => HashCode.Combine((int)n, (int)(n >> 32));
}
