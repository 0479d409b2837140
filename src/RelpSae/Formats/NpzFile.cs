using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace RelpSae.Formats;

/// <summary>
/// NumPy's <c>.npz</c> (a zip of <c>.npy</c> arrays, as <c>numpy.savez</c> writes): each array read as
/// float32 by name. Only little-endian numeric arrays in C order; anything else is a one-line error.
/// </summary>
public static partial class NpzFile
{
    [GeneratedRegex(@"'descr':\s*'([<>|=])([fiub])(\d+)'.*'fortran_order':\s*(True|False).*'shape':\s*\(([\d,\s]*)\)", RegexOptions.Singleline)]
    private static partial Regex Header();

    public static Dictionary<string, FloatTensor> Read(string path)
    {
        if (!File.Exists(path)) throw new RelpSaeException($"{path}: no such file");
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var arrays = new Dictionary<string, FloatTensor>(StringComparer.Ordinal);
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                string name = entry.FullName[..^4];
                using var stream = entry.Open();
                using var memory = new MemoryStream();
                stream.CopyTo(memory);
                arrays[name] = ReadNpy(memory.GetBuffer().AsSpan(0, (int)memory.Length), name, $"{path}: array '{name}'");
            }
            return arrays;
        }
        catch (InvalidDataException e)
        {
            throw new RelpSaeException($"{path}: not a readable .npz (zip) archive ({e.Message})");
        }
    }

    /// <summary>One .npy: magic, version, header length, a Python dict literal header, then the data.</summary>
    private static FloatTensor ReadNpy(ReadOnlySpan<byte> bytes, string name, string what)
    {
        if (bytes.Length < 10 || bytes[0] != 0x93 || !bytes[1..6].SequenceEqual("NUMPY"u8))
            throw new RelpSaeException($"{what}: not a .npy array (bad magic)");
        int major = bytes[6];
        int headerStart = major == 1 ? 10 : 12;
        if (major is < 1 or > 3 || bytes.Length < headerStart) throw new RelpSaeException($"{what}: .npy version {major} is not supported");
        int headerLength = major == 1 ? BitConverter.ToUInt16(bytes[8..10]) : (int)BitConverter.ToUInt32(bytes[8..12]);
        if (headerStart + headerLength > bytes.Length) throw new RelpSaeException($"{what}: the header runs past the end of the array");
        string header = Encoding.Latin1.GetString(bytes.Slice(headerStart, headerLength));
        var m = Header().Match(header);
        if (!m.Success) throw new RelpSaeException($"{what}: cannot read the header {header.Trim()}");
        if (m.Groups[4].Value == "True") throw new RelpSaeException($"{what}: Fortran-ordered arrays are not supported");
        if (m.Groups[1].Value == ">") throw new RelpSaeException($"{what}: big-endian arrays are not supported");
        var type = (m.Groups[2].Value, m.Groups[3].Value) switch
        {
            ("f", "2") => DType.F16, ("f", "4") => DType.F32, ("f", "8") => DType.F64,
            ("i", "4") => DType.I32, ("i", "8") => DType.I64, ("u", "1") => DType.U8,
            _ => throw new RelpSaeException($"{what}: dtype {m.Groups[2].Value}{m.Groups[3].Value} is not supported"),
        };
        int[] shape = m.Groups[5].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(int.Parse).ToArray();
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var data = bytes[(headerStart + headerLength)..];
        if (data.Length != count * type.Size())
            throw new RelpSaeException($"{what}: {data.Length} bytes of data, shape [{string.Join(", ", shape)}] needs {count * type.Size()}");
        var values = new float[count];
        ElementConverter.Convert<float>(type, data, values, what);
        return new FloatTensor(name, shape, values);
    }
}
