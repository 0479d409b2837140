using System.IO.Compression;
using System.Text;

namespace RelpSae.Tests.Formats;

/// <summary>
/// Writes torch.save-style zips by hand (protocol-2 pickle of an OrderedDict of tensor views plus one
/// entry per storage), so tests can craft views, storages and pickles no real checkpoint would hold.
/// </summary>
internal static class TorchZip
{
    /// <summary>A view of storage <paramref name="Key"/> (float32, <paramref name="Numel"/> elements).</summary>
    public sealed record View(string Name, string Key, long Numel, long Offset, long[] Size, long[] Stride, string Storage = "FloatStorage");

    public static byte[] StateDictPickle(IEnumerable<View> views)
    {
        var p = new List<byte> { 0x80, 2 };
        p.AddRange("ccollections\nOrderedDict\n)R("u8.ToArray());
        foreach (var v in views)
        {
            Str(p, v.Name);
            p.AddRange("ctorch._utils\n_rebuild_tensor_v2\n(("u8.ToArray());
            Str(p, "storage");
            p.AddRange(Encoding.ASCII.GetBytes($"ctorch\n{v.Storage}\n"));
            Str(p, v.Key);
            Str(p, "cpu");
            Int(p, v.Numel);
            p.AddRange("tQ"u8.ToArray());
            Int(p, v.Offset);
            Tuple(p, v.Size);
            Tuple(p, v.Stride);
            p.Add(0x89);                                          // requires_grad False
            p.AddRange("ccollections\nOrderedDict\n)Rt"u8.ToArray());
            p.Add((byte)'R');
        }
        p.AddRange("u."u8.ToArray());
        return [.. p];
    }

    /// <summary>Writes the pickle and storages (key → bytes) as archive/data.pkl and archive/data/KEY.</summary>
    public static string Write(string path, byte[] pickle, IEnumerable<(string Key, byte[] Bytes)> storages, CompressionLevel level = CompressionLevel.NoCompression)
    {
        using var zip = ZipFile.Open(path, ZipArchiveMode.Create);
        Entry(zip, "archive/data.pkl", pickle, level);
        foreach (var (key, bytes) in storages) Entry(zip, $"archive/data/{key}", bytes, level);
        return path;
    }

    public static void Entry(ZipArchive zip, string name, byte[] bytes, CompressionLevel level)
    {
        using var s = zip.CreateEntry(name, level).Open();
        s.Write(bytes);
    }

    public static void Str(List<byte> p, string s)
    {
        var b = Encoding.UTF8.GetBytes(s);
        p.Add((byte)'X');
        p.AddRange(BitConverter.GetBytes(b.Length));
        p.AddRange(b);
    }

    public static void Int(List<byte> p, long n)
    {
        p.Add(0x8a);                                              // LONG1, 8 bytes little-endian
        p.Add(8);
        p.AddRange(BitConverter.GetBytes(n));
    }

    private static void Tuple(List<byte> p, long[] items)
    {
        p.Add((byte)'(');
        foreach (var n in items) Int(p, n);
        p.Add((byte)'t');
    }
}
