using RelpSae.Model;
using System.IO.Compression;
using System.Text.Json.Nodes;
using RelpSae.Formats;
using RelpSae.Formats.Pickle;
using RelpSae.Sae;

namespace RelpSae.Tests.Formats;

/// <summary>
/// Small crafted files that once cost gigabytes or minutes: each is refused with a one-line error (or
/// read) while allocating a bounded amount, measured on this thread around the call.
/// </summary>
public class HostileFileTests
{
    private static readonly string Tarot = TestPaths.Data("tarot-gpt2");
    internal const long Megabyte = 1 << 20;

    private static string TempDir() => Directory.CreateTempSubdirectory("relpsae-hostile").FullName;

    /// <summary>Runs <paramref name="read"/>, asserts it allocated under the bound, and returns its error (if any).</summary>
    internal static RelpSaeException? Bounded(Action read, long maxBytes)
    {
        long before = GC.GetAllocatedBytesForCurrentThread();
        RelpSaeException? error = null;
        try { read(); }
        catch (RelpSaeException e) { error = e; }
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < maxBytes, $"allocated {allocated / Megabyte} MB, bound {maxBytes / Megabyte} MB");
        if (error is not null) Assert.DoesNotContain('\n', error.Message);
        return error;
    }

    internal static void Refused(Action read, long maxBytes, params string[] fragments)
    {
        var e = Bounded(read, maxBytes);
        Assert.NotNull(e);
        foreach (var f in fragments) Assert.Contains(f, e.Message);
    }

    /// <summary>A model folder with the tarot config (changed by <paramref name="config"/>) and the given weights file.</summary>
    private static string ModelFolder(Action<JsonObject>? config = null)
    {
        var dir = TempDir();
        var json = JsonNode.Parse(File.ReadAllText(Path.Combine(Tarot, "config.json")))!.AsObject();
        config?.Invoke(json);
        File.WriteAllText(Path.Combine(dir, "config.json"), json.ToJsonString());
        return dir;
    }

    [Fact]
    public void CollidingPickleKeysLoadInLinearTime()
    {
        // 400k long keys x<<32|x all share .NET's default hash (the XOR of the halves is 0).
        const int n = 400_000;
        var p = new List<byte> { 0x80, 2, (byte)'}', (byte)'(' };
        for (long x = 1; x <= n; x++) { TorchZip.Int(p, x << 32 | x); p.Add((byte)'N'); }
        p.AddRange("u."u8.ToArray());
        object? root = null;
        Assert.Null(Bounded(() => root = RestrictedUnpickler.Load([.. p], "keys.pkl"), 400 * Megabyte));
        Assert.Equal(n, ((OrderedDictionary<object, object?>)root!).Count);
    }

    [Fact]
    public void ManyEmptyDictsAreCapped()
    {
        // Each '}' is one byte and once a whole dictionary object: 50M of them took 4.5 GB.
        var pickle = new byte[3 + 2 * RestrictedUnpickler.MaxObjects];
        pickle[0] = 0x80; pickle[1] = 2;
        pickle.AsSpan(2, 2 * RestrictedUnpickler.MaxObjects).Fill((byte)'}');
        pickle[^1] = (byte)'.';
        string bin = TorchZip.Write(Path.Combine(TempDir(), "dicts.bin"), pickle, [], CompressionLevel.Optimal);
        Assert.True(new FileInfo(bin).Length < 64 * 1024);
        Refused(() => PyTorchBin.Read(bin), 300 * Megabyte, "dicts.bin", "more than 1048576 objects");
    }

    [Fact]
    public void OneHugeContainerIsCappedLikeManySmallOnes()
    {
        // An empty list, then None APPENDed two million times: one container, two million slots.
        var p = new List<byte> { 0x80, 2, (byte)']' };
        for (int i = 0; i < 2 * RestrictedUnpickler.MaxObjects; i++) p.AddRange("Na"u8.ToArray());
        p.Add((byte)'.');
        Refused(() => RestrictedUnpickler.Load([.. p], "list.pkl"), 300 * Megabyte, "list.pkl", "more than 1048576 objects");
    }

    [Fact]
    public void StrideZeroViewIsRefusedBeforeItIsGathered()
    {
        var view = new TorchZip.View("transformer.wte.weight", "0", 1, 0, [46340, 46340], [0, 0]);
        var dir = TempDir();
        string bin = TorchZip.Write(Path.Combine(dir, "view.bin"), TorchZip.StateDictPickle([view]), [("0", new byte[4])]);
        Refused(() => PyTorchBin.Read(bin), 16 * Megabyte, "'transformer.wte.weight'", "broadcast view");
        var model = ModelFolder();
        File.Copy(bin, Path.Combine(model, ShardedCheckpoint.PyTorchFile));
        Refused(() => Gpt2.Load(model), 16 * Megabyte, "config.json: n_layer is 4 but the checkpoint holds 0 layers");
    }

    [Fact]
    public void ConfigLayerCountIsCheckedAgainstTheTensorsFirst()
    {
        var model = ModelFolder(c => c["n_layer"] = 1_000_000_000);
        File.Copy(Path.Combine(Tarot, ShardedCheckpoint.PyTorchFile), Path.Combine(model, ShardedCheckpoint.PyTorchFile));
        Refused(() => Gpt2.Load(model), 64 * Megabyte, "n_layer is 1000000000 but the checkpoint holds 4 layers");
    }

    [Fact]
    public void HugeEmbeddingWidthIsAnErrorNotAnOverflow()
    {
        var model = ModelFolder(c => { c["n_embd"] = 1_000_000_000; c["n_head"] = 1; });
        Refused(() => Gpt2Config.Read(Path.Combine(model, "config.json")), Megabyte, "n_embd 1000000000", "more elements than one array");
    }

    [Fact]
    public void ZipBombStorageIsInflatedOnlyAsFarAsItsViewsReach()
    {
        // 1 MB of zeros (the most an entry may compress freely) compresses to ~1 KB; the view needs 16 bytes of it.
        const int numel = 1 << 18;
        var view = new TorchZip.View("x", "0", numel, 0, [4], [1]);
        string bin = TorchZip.Write(Path.Combine(TempDir(), "bomb.bin"), TorchZip.StateDictPickle([view]), [("0", new byte[4L * numel])], CompressionLevel.Optimal);
        Dictionary<string, FloatTensor>? read = null;
        Assert.Null(Bounded(() => read = PyTorchBin.Read(bin), Megabyte / 2));
        Assert.Equal(new float[4], read!["x"].Data);
    }

    /// <summary>torch.save stores weights uncompressed: a storage that claims to inflate a hundredfold is refused before anything is allocated for it.</summary>
    [Fact]
    public void ZipBombStorageIsRefusedUninflated()
    {
        const int numel = 16 << 20;   // 64 MB of zeros compress to ~64 KB
        var view = new TorchZip.View("x", "0", numel, 0, [numel], [1]);
        string bin = TorchZip.Write(Path.Combine(TempDir(), "bomb.bin"), TorchZip.StateDictPickle([view]), [("0", new byte[4L * numel])], CompressionLevel.Optimal);
        Refused(() => PyTorchBin.Read(bin), 8 * Megabyte, "archive/data/0", "claim to inflate", "a zip bomb?");
    }

    [Fact]
    public void StorageWhoseEntryDisagreesWithItsDeclaredSizeIsRefused()
    {
        var view = new TorchZip.View("x", "0", 4, 0, [4], [1]);
        string bin = TorchZip.Write(Path.Combine(TempDir(), "size.bin"), TorchZip.StateDictPickle([view]), [("0", new byte[1024])]);
        Refused(() => PyTorchBin.Read(bin), Megabyte, "storage '0' holds 1024 bytes, not the 16");
    }

    [Fact]
    public void UnusedHugeSafetensorsTensorIsNeverConverted()
    {
        // A sparse file: the header declares 2·10⁹ U8 elements that were once widened to 8 GB of floats.
        var model = ModelFolder();
        string path = Path.Combine(model, ShardedCheckpoint.SafetensorsFile);
        var header = """{"junk":{"dtype":"U8","shape":[2000000000],"data_offsets":[0,2000000000]}}"""u8.ToArray();
        using (var f = File.Create(path))
        {
            f.Write(BitConverter.GetBytes((ulong)header.Length));
            f.Write(header);
            f.SetLength(8 + header.Length + 2_000_000_000L);
        }
        Refused(() => Gpt2.Load(model), 16 * Megabyte, "holds 0 layers");
    }

    [Fact]
    public void IntegerAndUnknownWeightsAreRefusedByName()
    {
        var tensors = PyTorchBin.Read(Path.Combine(Tarot, ShardedCheckpoint.PyTorchFile));
        var model = ModelFolder();
        string path = Path.Combine(model, ShardedCheckpoint.SafetensorsFile);
        tensors["extra.weight"] = new FloatTensor("extra.weight", [2], [1, 2]);
        SafetensorsWriter.Write(path, tensors.Values);
        Refused(() => Gpt2.Load(model), 64 * Megabyte, "model.safetensors: tensor 'extra.weight' is not part of the model");
    }

    [Fact]
    public void DoubleBeyondFloatRangeIsReportedAsOverflow()
    {
        string path = BadFileTests.Safetensors("""{"w":{"dtype":"F64","shape":[2],"data_offsets":[0,16]}}""", [.. BitConverter.GetBytes(1.0), .. BitConverter.GetBytes(1e300)]);
        using var file = SafetensorsFile.Open(path);
        var e = Assert.Throws<RelpSaeException>(() => file.ReadFloat("w"));
        Assert.Contains("element 1 is 1E+300, beyond float32's range", e.Message);
        Assert.Equal(1e300, file.ReadDouble("w")[1]);
    }

    [Fact]
    public void NegativeJumpReluThresholdIsRefused()
    {
        var sae = Sae.SaeTestData.RandomSae(Sae.SaeTestData.Config(SaeArchitecture.JumpRelu, 8, 16), seed: 3);
        sae.Threshold[5] = -0.5f;
        var dir = TempDir();
        SaeFiles.Save(dir, sae);
        var e = Assert.Throws<RelpSaeException>(() => SaeFiles.Load(dir));
        Assert.Contains("threshold of feature 5 is -0.5", e.Message);
    }

    [Fact]
    public void HugeSaeWidthIsRefusedBeforeAllocation()
    {
        var dir = TempDir();
        SaeFiles.Save(dir, Sae.SaeTestData.RandomSae(Sae.SaeTestData.Config(SaeArchitecture.Standard, 128, 16), seed: 3));
        var cfg = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, SaeFiles.ConfigFile)))!.AsObject();
        cfg["d_sae"] = 20_000_000;
        File.WriteAllText(Path.Combine(dir, SaeFiles.ConfigFile), cfg.ToJsonString());
        Refused(() => SaeFiles.Load(dir), Megabyte, "d_sae 20000000", "more elements than one array");
    }
}
