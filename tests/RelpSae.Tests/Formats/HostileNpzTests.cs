using System.Buffers.Binary;
using System.Diagnostics;
using System.IO.Compression;
using System.Text;
using RelpSae.Formats;
using RelpSae.Sae;
using static RelpSae.Tests.Formats.FamilyLoaderTests;
using static RelpSae.Tests.Formats.HostileFileTests;

namespace RelpSae.Tests.Formats;

/// <summary>
/// Crafted Gemma Scope params.npz files (and a dictionary_learning ae.pt) that once cost gigabytes,
/// seconds or a stack trace: each is a one-line error naming the file and the array, found before the
/// array is allocated.
/// </summary>
public class HostileNpzTests
{
    private static string Header(string descr, string shape) => $"{{'descr': '{descr}', 'fortran_order': False, 'shape': ({shape}), }}";

    /// <summary>The five arrays of a Gemma Scope SAE of width d_in 4, d_sae 6, with <paramref name="replace"/> swapped in by name.</summary>
    private static string GemmaScope(params (string Name, byte[] Npy)[] replace)
    {
        (string, byte[])[] arrays = [("W_enc", Npy("4, 6", 24)), ("W_dec", Npy("6, 4", 24)), ("b_enc", Npy("6,", 6)), ("b_dec", Npy("4,", 4)), ("threshold", Npy("6,", 6))];
        return Npz(3, [.. arrays.Select(a => replace.FirstOrDefault(r => r.Name == a.Item1) is { Npy: not null } r ? r : a)]);
    }

    /// <summary>Rewrites the uncompressed size the zip's local and central headers give <paramref name="entry"/>.</summary>
    private static void ClaimUncompressedSize(string zip, string entry, uint size)
    {
        var bytes = File.ReadAllBytes(zip);
        var name = Encoding.ASCII.GetBytes(entry);
        int patched = 0;
        for (int i = 0; i + 46 <= bytes.Length; i++)
        {
            uint signature = BinaryPrimitives.ReadUInt32LittleEndian(bytes.AsSpan(i));
            (int nameLength, int nameAt, int sizeAt) = signature switch
            {
                0x04034b50 => (BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i + 26)), i + 30, i + 22),
                0x02014b50 => (BinaryPrimitives.ReadUInt16LittleEndian(bytes.AsSpan(i + 28)), i + 46, i + 24),
                _ => (-1, 0, 0),
            };
            if (nameLength != name.Length || !bytes.AsSpan(nameAt, nameLength).SequenceEqual(name)) continue;
            BinaryPrimitives.WriteUInt32LittleEndian(bytes.AsSpan(sizeAt), size);
            patched++;
        }
        Assert.Equal(2, patched);
        File.WriteAllBytes(zip, bytes);
    }

    [Fact]
    public void AZipBombArrayIsRefusedBeforeItIsAllocated()
    {
        // W_enc declares <f2 (1024, 1048575): 2 GB that the zip directory agrees to, from a few bytes of deflate.
        var declared = Npy(Header("<f2", "1024, 1048575"), []);
        string npz = GemmaScope(("W_enc", declared), ("W_dec", Npy(Header("<f2", "1048575, 1024"), [])),
            ("b_enc", Npy(Header("<f2", "1048575,"), [])), ("b_dec", Npy(Header("<f2", "1024,"), [])), ("threshold", Npy(Header("<f2", "1048575,"), [])));
        ClaimUncompressedSize(npz, "W_enc.npy", (uint)(declared.Length + 2L * 1024 * 1048575));
        var watch = Stopwatch.StartNew();
        Refused(() => SaeFiles.Load(npz), 16 * Megabyte, "params.npz: array 'W_enc'", "-fold");
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(5), $"took {watch.Elapsed}");
    }

    [Fact]
    public void DataBeyondWhatTheHeaderDeclaresIsRefusedUnread()
    {
        // The header says (4, 6) float32, 96 bytes; the entry holds 2 MB more (random, so it does not compress).
        var data = new byte[24 * 4 + (2 << 20)];
        new Random(5).NextBytes(data);
        string npz = GemmaScope(("W_enc", Npy(Header("<f4", "4, 6"), data)));
        Refused(() => NpzFile.Read(npz), Megabyte, "params.npz: array 'W_enc'", "(4, 6) of <f4 is 96 bytes", "holds 2097248");
    }

    [Fact]
    public void NaNOrInfinityInAnArrayIsRefusedByIndex()
    {
        var bDec = new byte[16];
        BitConverter.TryWriteBytes(bDec.AsSpan(8), float.NaN);
        Refused(() => SaeFiles.Load(GemmaScope(("b_dec", Npy(Header("<f4", "4,"), bDec)))), Megabyte,
            "params.npz: array 'b_dec': element 2 is NaN");
        var threshold = new byte[12];
        BitConverter.TryWriteBytes(threshold.AsSpan(2), Half.PositiveInfinity);
        Refused(() => SaeFiles.Load(GemmaScope(("threshold", Npy(Header("<f2", "6,"), threshold)))), Megabyte,
            "params.npz: array 'threshold': element 1 is", "infinite");
    }

    [Fact]
    public void AFloat64OverflowIsNamedByItsIndexInTheArrayNotInTheChunk()
    {
        // 140,000 doubles span two of the 1 MB chunks an array is inflated in; the bad one is in the second.
        var random = new Random(7);
        var values = Enumerable.Range(0, 140_000).Select(_ => random.NextDouble()).ToArray();
        values[135_000] = 1e300;
        string npz = GemmaScope(("W_enc", Npy(Header("<f8", "4, 35000"), [.. values.SelectMany(BitConverter.GetBytes)])));
        var e = Assert.Throws<RelpSaeException>(() => NpzFile.Read(npz));
        Assert.Contains("params.npz: array 'W_enc': element 135000 is 1E+300, beyond float32's range", e.Message);
    }

    [Fact]
    public void ALongRepetitiveHeaderIsRefusedQuicklyAndBriefly()
    {
        // 60 KB of repeated keys once took the header pattern 12.5 s to fail and echoed all of it.
        string repeated = "{" + string.Concat(Enumerable.Repeat("'fortran_order': False, 'descr': '<f4', ", 1500)) + "}";
        string npz = GemmaScope(("W_enc", Npy(repeated, [])));
        var watch = Stopwatch.StartNew();
        var e = Assert.Throws<RelpSaeException>(() => NpzFile.Read(npz));
        Assert.True(watch.Elapsed < TimeSpan.FromSeconds(2), $"took {watch.Elapsed}");
        Assert.Contains("params.npz: array 'W_enc'", e.Message);
        Assert.Contains("more than numpy's 10000", e.Message);
        Assert.True(e.Message.Length < 300, e.Message);

        // Under numpy's cap the same keys twice are named, without echoing the header.
        string twice = "{" + string.Concat(Enumerable.Repeat("'fortran_order': False, 'descr': '<f4', ", 200)) + "}";
        e = Assert.Throws<RelpSaeException>(() => NpzFile.Read(GemmaScope(("W_enc", Npy(twice, [])))));
        Assert.Contains("params.npz: array 'W_enc': the header gives 'fortran_order' twice", e.Message);
        Assert.True(e.Message.Length < 300, e.Message);

        e = Assert.Throws<RelpSaeException>(() => NpzFile.Read(GemmaScope(("W_enc", Npy("{'descr': '<f4', 'shape': (4, 6), 'fortran_order': Maybe" + new string('x', 5000) + "}", [])))));
        Assert.Contains("params.npz: array 'W_enc': the header's 'fortran_order' is not True or False", e.Message);
        Assert.True(e.Message.Length < 300, e.Message);
    }

    [Fact]
    public void ADuplicateArrayIsAOneLineError()
    {
        string npz = GemmaScope();
        using (var zip = ZipFile.Open(npz, ZipArchiveMode.Update))
        using (var s = zip.CreateEntry("b_dec.npy").Open())
            s.Write(Npy("4,", 4));
        Refused(() => SaeFiles.Load(npz), Megabyte, "params.npz: array 'b_dec' appears twice");
    }

    [Fact]
    public void AFractionalTopKIsRefusedByName()
    {
        // dictionary_learning's AutoEncoderTopK with k stored as the float 3.5 (it was truncated to 3).
        TorchZip.View Matrix(string name, string key, long rows, long cols) => new(name, key, rows * cols, 0, [rows, cols], [cols, 1]);
        TorchZip.View Vector(string name, string key, long n) => new(name, key, n, 0, [n], [1]);
        var views = new[] { Matrix("encoder.weight", "0", 6, 4), Vector("encoder.bias", "1", 6), Matrix("decoder.weight", "2", 4, 6), Vector("b_dec", "3", 4),
            new TorchZip.View("k", "4", 1, 0, [], []) };
        string pt = TorchZip.Write(Path.Combine(Directory.CreateTempSubdirectory("relp-topk-").FullName, "ae.pt"), TorchZip.StateDictPickle(views),
            [("0", new byte[96]), ("1", new byte[24]), ("2", new byte[96]), ("3", new byte[16]), ("4", BitConverter.GetBytes(3.5f))]);
        Refused(() => SaeFiles.Load(pt), Megabyte, "ae.pt: tensor 'k' is 3.5", "whole number");
    }
}
