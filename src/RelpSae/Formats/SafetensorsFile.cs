using System.Buffers.Binary;
using System.IO.MemoryMappedFiles;
using System.Numerics;

namespace RelpSae.Formats;

/// <summary>
/// A safetensors file, memory-mapped: the header is parsed and validated on open, and a tensor's
/// bytes are only touched when it is read (widened to float32, or to double for exact checks).
/// </summary>
public sealed unsafe class SafetensorsFile : IDisposable
{
    private readonly MemoryMappedFile? _map;
    private readonly MemoryMappedViewAccessor? _view;
    private readonly byte* _data;
    private readonly Dictionary<string, SafetensorsEntry> _byName;
    private bool _disposed;

    public string Path { get; }
    public IReadOnlyDictionary<string, string> Metadata { get; }
    /// <summary>The tensors in file order (by data offset).</summary>
    public IReadOnlyList<SafetensorsEntry> Entries { get; }

    private SafetensorsFile(string path)
    {
        Path = path;
        using var stream = new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read);
        long length = stream.Length;
        if (length < 8)
            throw new RelpSaeException($"{path}: {length} bytes is too short for a safetensors file (the header length alone takes 8)");
        Span<byte> prefix = stackalloc byte[8];
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength > (ulong)(length - 8))
            throw new RelpSaeException($"{path}: the header claims {headerLength} bytes but the file has only {length - 8} after the length");
        if (headerLength > SafetensorsHeader.MaxLength)
            throw new RelpSaeException($"{path}: the header claims {headerLength} bytes, more than the {SafetensorsHeader.MaxLength} allowed");
        var header = new byte[headerLength];
        stream.ReadExactly(header);
        long dataStart = 8 + (long)headerLength;
        var (metadata, entries) = SafetensorsHeader.Parse(header, length - dataStart, path);
        Metadata = metadata;
        Entries = entries;
        _byName = entries.ToDictionary(e => e.Name, StringComparer.Ordinal);
        if (length > dataStart)
        {
            stream.Position = 0;
            _map = MemoryMappedFile.CreateFromFile(stream, null, 0, MemoryMappedFileAccess.Read, HandleInheritability.None, leaveOpen: true);
            _view = _map.CreateViewAccessor(0, 0, MemoryMappedFileAccess.Read);
            byte* pointer = null;
            _view.SafeMemoryMappedViewHandle.AcquirePointer(ref pointer);
            _data = pointer + _view.PointerOffset + dataStart;
        }
    }

    /// <summary>Opens and validates a safetensors file; every problem is a one-line <see cref="RelpSaeException"/>.</summary>
    public static SafetensorsFile Open(string path)
    {
        SideFile.CheckedLength(path, long.MaxValue);   // a regular file: opening a FIFO would wait for a writer
        return new SafetensorsFile(path);
    }

    public bool Contains(string name) => _byName.ContainsKey(name);

    public SafetensorsEntry Entry(string name) =>
        _byName.TryGetValue(name, out var e) ? e : throw new RelpSaeException($"{Path}: no tensor named '{name}'");

    /// <summary>Reads one tensor widened to float32; with <paramref name="checkFinite"/>, NaN or infinity is an error.</summary>
    public FloatTensor ReadFloat(string name, bool checkFinite = true)
    {
        var entry = Entry(name);
        return new FloatTensor(name, (int[])entry.Shape.Clone(), Read<float>(entry, checkFinite));
    }

    /// <summary>Reads one tensor widened to double (exact for every dtype but the largest 64-bit integers).</summary>
    public double[] ReadDouble(string name, bool checkFinite = false) => Read<double>(Entry(name), checkFinite);

    /// <summary>Reads every tensor as float32, keyed by name.</summary>
    public Dictionary<string, FloatTensor> ReadAll(bool checkFinite = true) =>
        Entries.ToDictionary(e => e.Name, e => ReadFloat(e.Name, checkFinite), StringComparer.Ordinal);

    /// <summary>
    /// Rows [<paramref name="first"/>, first + count) of a tensor of two or more dimensions (a row: all its dimensions but the
    /// first) widened to float32 into <paramref name="into"/>, the mapped pages they came from then let go: a weight packed a
    /// band at a time never holds the file's copy resident too.
    /// </summary>
    public void ReadRows(string name, int first, int count, Span<float> into, bool checkFinite = true)
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var entry = Entry(name);
        long row = entry.Shape.Skip(1).Aggregate(1L, (a, b) => a * b);
        if (entry.Shape.Length < 2 || first < 0 || count < 0 || first + count > entry.Shape[0] || into.Length != count * row)
            throw new ArgumentException($"rows [{first}, {first + count}) of '{name}' [{string.Join(", ", entry.Shape)}] do not fill {into.Length} floats");
        int size = entry.DType.Size();
        long start = first * row;
        byte* at = _data + entry.Begin + start * size;
        string what = $"{Path}: tensor '{entry.Name}'";
        ElementConverter.Convert(entry.DType, new ReadOnlySpan<byte>(at, into.Length * size), into, what, start);
        if (checkFinite && entry.DType.IsFloat()) ElementConverter.EnsureFinite<float>(into, what, start);
        MappedPages.Release(at, (long)into.Length * size);
    }

    private T[] Read<T>(SafetensorsEntry entry, bool checkFinite) where T : unmanaged, IFloatingPointIeee754<T>
    {
        ObjectDisposedException.ThrowIf(_disposed, this);
        var values = new T[entry.Count];
        string what = $"{Path}: tensor '{entry.Name}'";
        // Converted in chunks so a span never needs more than int.MaxValue bytes.
        const int chunk = 1 << 26;
        int size = entry.DType.Size();
        for (long start = 0; start < values.LongLength; start += chunk)
        {
            int n = (int)Math.Min(chunk, values.LongLength - start);
            var source = new ReadOnlySpan<byte>(_data + entry.Begin + start * size, n * size);
            ElementConverter.Convert(entry.DType, source, values.AsSpan((int)start, n), what, start);
        }
        if (checkFinite && entry.DType.IsFloat())
            ElementConverter.EnsureFinite<T>(values, what);
        return values;
    }

    public void Dispose()
    {
        if (_disposed) return;
        _disposed = true;
        if (_view is not null)
        {
            _view.SafeMemoryMappedViewHandle.ReleasePointer();
            _view.Dispose();
        }
        _map?.Dispose();
    }
}
