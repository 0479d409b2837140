using System.IO.Compression;
using System.Text;
using System.Text.RegularExpressions;

namespace RelpSae.Formats;

/// <summary>
/// NumPy's <c>.npz</c> (a zip of <c>.npy</c> arrays, as <c>numpy.savez</c> writes): each array read as
/// float32 by name. Only little-endian numeric arrays in C order; anything else is a one-line error.
/// The headers can be read alone (<see cref="Headers"/>) so that a caller checks names and shapes before
/// any array is converted; an array's size is bounded by its zip entry and by what one array can hold.
/// </summary>
public static partial class NpzFile
{
    [GeneratedRegex(@"'descr':\s*'([<>|=])([fiub])(\d+)'.*'fortran_order':\s*(True|False).*'shape':\s*\(([\d,\s]*)\)", RegexOptions.Singleline)]
    private static partial Regex Header();

    /// <summary>Each array's name, shape and dtype, from the first bytes of its entry (no data is read).</summary>
    public static List<TensorHeader> Headers(string path) => Each(path, (name, stream, length, what) =>
    {
        var start = new byte[(int)Math.Min(length, 64 * 1024)];
        stream.ReadAtLeast(start, start.Length, throwOnEndOfStream: false);
        var (type, shape, _) = ParseHeader(start, what);
        return new TensorHeader(name, shape, type);
    });

    public static Dictionary<string, FloatTensor> Read(string path) =>
        Each(path, (name, stream, length, what) =>
        {
            var bytes = new byte[length];
            if (stream.ReadAtLeast(bytes, bytes.Length, throwOnEndOfStream: false) != length || stream.ReadByte() != -1)
                throw new RelpSaeException($"{what}: the entry's data is not the {length} bytes its zip header declares");
            return ReadNpy(bytes, name, what);
        }).ToDictionary(t => t.Name, StringComparer.Ordinal);

    /// <summary>Opens each .npy entry, bounded by what one array can hold, and hands it to <paramref name="read"/>.</summary>
    private static List<T> Each<T>(string path, Func<string, Stream, int, string, T> read)
    {
        if (!File.Exists(path)) throw new RelpSaeException($"{path}: no such file");
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var results = new List<T>();
            foreach (var entry in zip.Entries)
            {
                if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
                string name = entry.FullName[..^4], what = $"{path}: array '{name}'";
                if (entry.Length > Array.MaxLength)
                    throw new RelpSaeException($"{what} is {entry.Length} bytes uncompressed, more than one array can hold");
                using var stream = entry.Open();
                results.Add(read(name, stream, (int)entry.Length, what));
            }
            return results;
        }
        catch (InvalidDataException e)
        {
            throw new RelpSaeException($"{path}: not a readable .npz (zip) archive ({e.Message})");
        }
    }

    /// <summary>One .npy: magic, version, header length, a Python dict literal header, then the data.</summary>
    private static FloatTensor ReadNpy(ReadOnlySpan<byte> bytes, string name, string what)
    {
        var (type, shape, dataStart) = ParseHeader(bytes, what);
        long count = shape.Aggregate(1L, (a, b) => a * b);
        var data = bytes[dataStart..];
        if (data.Length != count * type.Size())
            throw new RelpSaeException($"{what}: {data.Length} bytes of data, shape [{string.Join(", ", shape)}] needs {count * type.Size()}");
        var values = new float[count];
        ElementConverter.Convert<float>(type, data, values, what);
        return new FloatTensor(name, shape, values);
    }

    /// <summary>The dtype, the shape (its element count bounded by one array) and where the data starts.</summary>
    private static (DType Type, int[] Shape, int DataStart) ParseHeader(ReadOnlySpan<byte> bytes, string what)
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
        var dims = m.Groups[5].Value.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries);
        var shape = new int[dims.Length];
        long count = 1;
        for (int i = 0; i < dims.Length; i++)
        {
            if (!int.TryParse(dims[i], out shape[i]) || (count *= shape[i]) > Array.MaxLength)
                throw new RelpSaeException($"{what}: shape ({m.Groups[5].Value.Trim()}) is more elements than one array can hold");
        }
        return (type, shape, headerStart + headerLength);
    }
}
