using System.IO.Compression;
using RelpSae.Formats.Pickle;

namespace RelpSae.Formats;

/// <summary>
/// Reads a PyTorch state dict saved by <c>torch.save</c> (the zip format: <c>ARCHIVE/data.pkl</c>
/// plus one entry <c>ARCHIVE/data/KEY</c> per storage) without running any Python: the pickle goes
/// through <see cref="RestrictedUnpickler"/>, and each tensor view is gathered contiguous from its
/// storage and widened to float32. A caller's plan sees every tensor's name and shape first and picks
/// the ones to load; of a storage only the prefix its views reach is inflated.
/// </summary>
public static class PyTorchBin
{
    /// <summary>A state dict's pickle is a few hundred bytes per tensor; more than this is not one.</summary>
    public const long MaxPickleBytes = 64 << 20;

    /// <param name="plan">Checks the declared tensors (throwing on a mismatch) and names those to load; null loads all.</param>
    public static Dictionary<string, FloatTensor> Read(string path, bool checkFinite = true,
        Func<IReadOnlyList<TensorHeader>, IReadOnlySet<string>>? plan = null)
    {
        SideFile.CheckedLength(path, long.MaxValue);   // a regular file: opening a FIFO would wait for a writer
        try
        {
            using var zip = ZipFile.OpenRead(path);
            var pickle = zip.Entries.Where(e => e.FullName.EndsWith("/data.pkl", StringComparison.Ordinal)
                                                && e.FullName.IndexOf('/') == e.FullName.Length - "/data.pkl".Length).ToList();
            if (pickle.Count != 1)
                throw new RelpSaeException($"{path}: not a PyTorch zip checkpoint ({pickle.Count} ARCHIVE/data.pkl entries)");
            string archive = pickle[0].FullName[..^"data.pkl".Length];
            if (pickle[0].Length > MaxPickleBytes)
                throw new RelpSaeException($"{path}: {pickle[0].FullName} is {pickle[0].Length} bytes, more than a state dict's pickle needs ({MaxPickleBytes})");
            var root = RestrictedUnpickler.Load(ReadEntry(pickle[0], pickle[0].Length, path), path);
            if (root is not OrderedDictionary<object, object?> dict)
                throw new RelpSaeException($"{path}: the pickle holds a {root?.GetType().Name ?? "None"}, not a state dict");

            var views = new List<(string Name, TensorRef View)>();
            foreach (var (key, value) in dict)
            {
                if (key is not string name || value is not TensorRef view)
                    throw new RelpSaeException($"{path}: state dict entry '{key}' is not a tensor");
                views.Add((name, view));
            }
            if (plan is not null)
            {
                var wanted = plan([.. views.Select(v => new TensorHeader(v.Name, v.View.Shape, v.View.Storage.DType))]);
                views.RemoveAll(v => !wanted.Contains(v.Name));
            }
            var tensors = new Dictionary<string, FloatTensor>(StringComparer.Ordinal);
            // One storage in memory at a time: tied tensors (lm_head and wte) share one.
            foreach (var group in views.GroupBy(v => v.View.Storage.Key))
            {
                var storage = group.First().View.Storage;
                var entry = zip.GetEntry($"{archive}data/{storage.Key}")
                    ?? throw new RelpSaeException($"{path}: storage '{storage.Key}' is missing from the archive");
                ZipInflation.Check(entry, $"{path}: entry {entry.FullName}");
                long bytes = storage.Count * storage.DType.Size();
                if (storage.Count > Array.MaxLength || entry.Length != bytes)
                    throw new RelpSaeException($"{path}: storage '{storage.Key}' holds {entry.Length} bytes, not the {bytes} its {storage.Count} {storage.DType} elements need");
                foreach (var (name, view) in group)
                    if (view.Storage != storage)
                        throw new RelpSaeException($"{path}: tensor '{name}' describes storage '{storage.Key}' differently from another tensor");
                // A zip bomb's storage may inflate to gigabytes: read only as far as the views reach.
                long reach = group.Max(v => Reach(v.Name, v.View, path));
                var values = new float[reach];
                ElementConverter.Convert<float>(storage.DType, ReadEntry(entry, reach * storage.DType.Size(), path), values, $"{path}: storage '{storage.Key}'");
                foreach (var (name, view) in group)
                {
                    bool soleOwner = group.Count() == 1;
                    tensors[name] = Materialise(name, view, values, soleOwner);
                    if (checkFinite && storage.DType.IsFloat())
                        ElementConverter.EnsureFinite<float>(tensors[name].Data, $"{path}: tensor '{name}'");
                }
            }
            return tensors;
        }
        catch (InvalidDataException e)
        {
            throw new RelpSaeException($"{path}: not a readable zip archive ({e.Message})");
        }
    }

    private static byte[] ReadEntry(ZipArchiveEntry entry, long length, string path)
    {
        if (length > Array.MaxLength || entry.Length < length)
            throw new RelpSaeException($"{path}: entry {entry.FullName} is too large or too short");
        var buffer = new byte[length];
        using var stream = entry.Open();
        try
        {
            stream.ReadExactly(buffer);
        }
        catch (EndOfStreamException)
        {
            throw new RelpSaeException($"{path}: entry {entry.FullName} is truncated");
        }
        return buffer;
    }

    /// <summary>
    /// How many leading storage elements a view needs, refused when it reaches past the storage or
    /// has more elements than the storage holds (a stride-0 view would multiply a tiny file).
    /// </summary>
    private static long Reach(string name, TensorRef view, string path)
    {
        long count = 1, last = view.Offset;
        for (int d = view.Shape.Length - 1; d >= 0; d--)
        {
            count *= view.Shape[d];
            if (count > Array.MaxLength) throw new RelpSaeException($"{path}: tensor '{name}' has too many elements");
            if (view.Shape[d] > 0) last += (view.Shape[d] - 1) * view.Stride[d];
        }
        if (count == 0) return 0;
        if (last >= view.Storage.Count)
            throw new RelpSaeException($"{path}: tensor '{name}' reaches element {last} of a storage of {view.Storage.Count}");
        if (count > view.Storage.Count)
            throw new RelpSaeException($"{path}: tensor '{name}' has {count} elements but its storage only {view.Storage.Count} (a broadcast view is not a weight)");
        return last + 1;
    }

    /// <summary>Gathers a strided view into a contiguous float32 tensor (the storage itself when it is exactly that).</summary>
    private static FloatTensor Materialise(string name, TensorRef view, float[] storage, bool soleOwner)
    {
        long count = 1, contiguousStride = 1;
        bool contiguous = view.Offset == 0;
        for (int d = view.Shape.Length - 1; d >= 0; d--)
        {
            count *= view.Shape[d];
            contiguous &= view.Shape[d] == 1 || view.Stride[d] == contiguousStride;
            contiguousStride *= view.Shape[d];
        }
        if (soleOwner && contiguous && count == storage.LongLength)
            return new FloatTensor(name, view.Shape, storage);
        var data = new float[count];
        if (count > 0) Gather(storage, view, data);
        return new FloatTensor(name, view.Shape, data);
    }

    // Walks the view in row-major order with an odometer over the dimensions.
    private static void Gather(float[] storage, TensorRef view, float[] data)
    {
        int rank = view.Shape.Length;
        if (rank == 0) { data[0] = storage[view.Offset]; return; }
        int inner = view.Shape[rank - 1];
        long innerStride = view.Stride[rank - 1];
        var index = new int[rank];
        long source = view.Offset;
        for (long written = 0; written < data.LongLength; written += inner)
        {
            for (int i = 0; i < inner; i++) data[written + i] = storage[source + i * innerStride];
            for (int d = rank - 2; d >= 0; d--)
            {
                source += view.Stride[d];
                if (++index[d] < view.Shape[d]) break;
                source -= index[d] * view.Stride[d];
                index[d] = 0;
            }
        }
    }
}
