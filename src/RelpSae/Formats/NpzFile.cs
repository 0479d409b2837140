using System.IO.Compression;

namespace RelpSae.Formats;

/// <summary>
/// NumPy's <c>.npz</c> (a zip of <c>.npy</c> arrays, as <c>numpy.savez</c> writes): each array read as
/// float32 by name. Only little-endian numeric arrays in C order; anything else is a one-line error.
/// Every array's header is read and checked against its zip entry (and by the caller) before any array
/// is allocated, and an array is inflated in chunks, never past the size its header declares.
/// </summary>
public static class NpzFile
{
    /// <summary>Bytes inflated and converted at a time, so an array costs its float32 values and little more.</summary>
    private const int ChunkBytes = 1 << 20;

    /// <param name="check">
    /// Sees every array's name, shape and dtype (from the headers alone) and throws on what the caller
    /// cannot use, before any array is allocated.
    /// </param>
    public static Dictionary<string, FloatTensor> Read(string path, Action<IReadOnlyList<TensorHeader>>? check = null)
    {
        SideFile.CheckedLength(path, long.MaxValue);   // a regular file: opening a FIFO would wait for a writer
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var arrays = Arrays(zip, path);
            check?.Invoke([.. arrays.Select(a => a.Header.Tensor)]);
            return arrays.ToDictionary(a => a.Header.Tensor.Name, a => ReadData(a.Entry, a.Header, $"{path}: array '{a.Header.Tensor.Name}'"),
                StringComparer.Ordinal);
        }
        catch (InvalidDataException e)
        {
            throw new RelpSaeException($"{path}: not a readable .npz (zip) archive ({e.Message})");
        }
    }

    /// <summary>Each .npy entry with its header, refused when a name repeats or the entry inflates like a zip bomb.</summary>
    private static List<(ZipArchiveEntry Entry, NpyHeader Header)> Arrays(ZipArchive zip, string path)
    {
        var arrays = new List<(ZipArchiveEntry, NpyHeader)>();
        var names = new HashSet<string>(StringComparer.Ordinal);
        foreach (var entry in zip.Entries)
        {
            if (!entry.FullName.EndsWith(".npy", StringComparison.Ordinal)) continue;
            string name = entry.FullName[..^4], what = $"{path}: array '{name}'";
            if (!names.Add(name)) throw new RelpSaeException($"{what} appears twice in the archive");
            ZipInflation.Check(entry, what);
            using var stream = entry.Open();
            arrays.Add((entry, NpyHeader.Read(stream, entry.Length, name, what)));
        }
        return arrays;
    }

    /// <summary>The array's data, inflated a chunk at a time and widened to float32; NaN or infinity is an error.</summary>
    private static FloatTensor ReadData(ZipArchiveEntry entry, NpyHeader header, string what)
    {
        var (tensor, dataStart, dataBytes) = header;
        int size = tensor.DType.Size();
        var values = new float[dataBytes / size];
        var buffer = new byte[Math.Max(dataStart, (int)Math.Min(dataBytes, ChunkBytes))];
        using var stream = entry.Open();
        try
        {
            stream.ReadExactly(buffer, 0, dataStart);
            for (int done = 0; done < values.Length;)
            {
                int n = Math.Min(values.Length - done, ChunkBytes / size);
                var chunk = buffer.AsSpan(0, n * size);
                stream.ReadExactly(chunk);
                ElementConverter.Convert<float>(tensor.DType, chunk, values.AsSpan(done, n), what, done);
                done += n;
            }
        }
        catch (EndOfStreamException)
        {
            throw new RelpSaeException($"{what}: the entry ends before the {dataBytes} bytes of data its header declares");
        }
        if (stream.ReadByte() != -1) throw new RelpSaeException($"{what}: the entry holds more than the {dataBytes} bytes of data its header declares");
        if (tensor.DType.IsFloat()) ElementConverter.EnsureFinite<float>(values, what);
        return new FloatTensor(tensor.Name, tensor.Shape, values);
    }
}
