using System.IO.Compression;
using FsCheck;
using FsCheck.Xunit;
using RelpSae.Formats;

namespace RelpSae.Tests.Formats;

/// <summary>
/// Real files with random byte changes and truncations: the readers either succeed or throw a
/// RelpSaeException, never anything else (no index errors), and never allocate more than 256 MB.
/// </summary>
public class MutationProperties
{
    private static readonly byte[] Sample = File.ReadAllBytes(TestPaths.Data("safetensors-samples", "overall.safetensors"));
    private static readonly Lazy<(byte[] Pickle, (string Name, byte[] Bytes)[] Entries)> Tarot = new(() =>
    {
        using var zip = ZipFile.OpenRead(TestPaths.Data("tarot-gpt2", "pytorch_model.bin"));
        var entries = zip.Entries.Select(e =>
        {
            using var s = e.Open();
            var buffer = new byte[e.Length];
            s.ReadExactly(buffer);
            return (e.FullName, buffer);
        }).ToArray();
        return (entries.Single(e => e.FullName.EndsWith("data.pkl")).buffer, entries.Where(e => !e.FullName.EndsWith("data.pkl")).ToArray());
    });

    /// <summary>XORs the chosen bytes, then maybe truncates: the changes come from FsCheck.</summary>
    private static byte[] Mutate(byte[] original, (NonNegativeInt Position, byte Xor)[] flips, NonNegativeInt cut, bool truncate)
    {
        var bytes = (byte[])original.Clone();
        foreach (var (position, xor) in flips)
            bytes[position.Get % bytes.Length] ^= xor;
        return truncate ? bytes[..(cut.Get % bytes.Length)] : bytes;
    }

    /// <summary>Reads or fails with a one-line RelpSaeException, allocating under 256 MB on this thread either way.</summary>
    private static bool ReadsOrFailsCleanly(Action read)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        bool clean;
        try { read(); clean = true; }
        catch (RelpSaeException e) { clean = !e.Message.Contains('\n'); }
        return clean && GC.GetAllocatedBytesForCurrentThread() - before < 256L << 20;
    }

    [Property(MaxTest = 400)]
    public bool MutatedSafetensors((NonNegativeInt, byte)[] flips, NonNegativeInt cut, bool truncate)
    {
        string path = Path.Combine(Path.GetTempPath(), $"relpsae-mut-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}.safetensors");
        File.WriteAllBytes(path, Mutate(Sample, flips, cut, truncate));
        try
        {
            return ReadsOrFailsCleanly(() =>
            {
                using var file = SafetensorsFile.Open(path);
                file.ReadAll();
                foreach (var e in file.Entries) file.ReadDouble(e.Name);
            });
        }
        finally { File.Delete(path); }
    }

    [Property(MaxTest = 200)]
    public bool MutatedPickleInARebuiltZip((NonNegativeInt, byte)[] flips, NonNegativeInt cut, bool truncate)
    {
        var (pickle, entries) = Tarot.Value;
        string path = Path.Combine(Path.GetTempPath(), $"relpsae-mut-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}.bin");
        using (var zip = ZipFile.Open(path, ZipArchiveMode.Create))
        {
            using (var s = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open())
                s.Write(Mutate(pickle, flips, cut, truncate));
            foreach (var (name, bytes) in entries)
                using (var s = zip.CreateEntry(name, CompressionLevel.NoCompression).Open())
                    s.Write(bytes);
        }
        try { return ReadsOrFailsCleanly(() => PyTorchBin.Read(path)); }
        finally { File.Delete(path); }
    }

    [Property(MaxTest = 200)]
    public bool MutatedZipBytes((NonNegativeInt, byte)[] flips, NonNegativeInt cut, bool truncate)
    {
        var original = Tarot.Value.Pickle;   // a small zip: the pickle plus one storage, mutated as raw bytes
        using var buffer = new MemoryStream();
        using (var zip = new ZipArchive(buffer, ZipArchiveMode.Create, leaveOpen: true))
        {
            using (var s = zip.CreateEntry("archive/data.pkl", CompressionLevel.NoCompression).Open()) s.Write(original);
            using (var s = zip.CreateEntry("archive/data/4", CompressionLevel.NoCompression).Open()) s.Write(new byte[4096]);
        }
        string path = Path.Combine(Path.GetTempPath(), $"relpsae-zip-{Environment.ProcessId}-{Environment.CurrentManagedThreadId}.bin");
        File.WriteAllBytes(path, Mutate(buffer.ToArray(), flips, cut, truncate));
        try { return ReadsOrFailsCleanly(() => PyTorchBin.Read(path)); }
        finally { File.Delete(path); }
    }
}
