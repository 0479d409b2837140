using RelpSae.Model;
using System.IO.Compression;
using System.Text;
using RelpSae.Formats;
using RelpSae.Formats.Pickle;

namespace RelpSae.Tests.Formats;

/// <summary>Every malformed input is a one-line RelpSaeException naming what is wrong, never another exception.</summary>
public class BadFileTests
{
    private static readonly string Tarot = TestPaths.Data("tarot-gpt2");
    private static string Temp(string name) => Path.Combine(Directory.CreateTempSubdirectory("relpsae-bad").FullName, name);

    /// <summary>A safetensors file with the given JSON header and data bytes.</summary>
    internal static string Safetensors(string header, byte[] data)
    {
        var json = Encoding.UTF8.GetBytes(header);
        string path = Temp("bad.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)json.Length), .. json, .. data]);
        return path;
    }

    private static RelpSaeException Fails(Action read, params string[] fragments)
    {
        var e = Assert.Throws<RelpSaeException>(read);
        Assert.DoesNotContain('\n', e.Message);
        foreach (var f in fragments) Assert.Contains(f, e.Message);
        return e;
    }

    private static void ReadAll(string path)
    {
        using var file = SafetensorsFile.Open(path);
        file.ReadAll();
    }

    [Fact]
    public void TruncatedFile()
    {
        string path = Temp("short.safetensors");
        File.WriteAllBytes(path, [1, 2, 3]);
        Fails(() => ReadAll(path), "too short");
    }

    [Fact]
    public void HeaderLongerThanFile()
    {
        string path = Temp("long.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes(1000UL), .. "{}"u8]);
        Fails(() => ReadAll(path), "header claims 1000");
    }

    [Fact]
    public void InvalidJson() => Fails(() => ReadAll(Safetensors("{\"a\":", [])), "not valid JSON");

    [Fact]
    public void HeaderNotUtf8()
    {
        byte[] header = [.. "{\""u8, 0xDF, .. "\":{}}"u8];   // 0xDF starts a two-byte sequence that never ends
        string path = Temp("latin1.safetensors");
        File.WriteAllBytes(path, [.. BitConverter.GetBytes((ulong)header.Length), .. header]);
        Fails(() => ReadAll(path), "UTF-8");
    }

    [Fact]
    public void OverlappingOffsets() => Fails(() => ReadAll(Safetensors(
        """{"a":{"dtype":"F32","shape":[2],"data_offsets":[0,8]},"b":{"dtype":"F32","shape":[2],"data_offsets":[4,12]}}""", new byte[12])), "'b'", "overlap");

    [Fact]
    public void OffsetsPastTheData() => Fails(() => ReadAll(Safetensors(
        """{"a":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}}""", new byte[8])), "'a'", "past the data");

    [Fact]
    public void UnknownDtype() => Fails(() => ReadAll(Safetensors(
        """{"a":{"dtype":"F8_E9","shape":[1],"data_offsets":[0,1]}}""", new byte[1])), "'a'", "F8_E9");

    [Fact]
    public void ShapeDisagreesWithSize() => Fails(() => ReadAll(Safetensors(
        """{"a":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}}""", new byte[8])), "'a'", "needs 12 bytes");

    [Fact]
    public void NegativeDimension() => Fails(() => ReadAll(Safetensors(
        """{"a":{"dtype":"F32","shape":[-2],"data_offsets":[0,8]}}""", new byte[8])), "'a'", "-2");

    [Fact]
    public void DuplicateName() => Fails(() => ReadAll(Safetensors(
        """{"a":{"dtype":"U8","shape":[1],"data_offsets":[0,1]},"a":{"dtype":"U8","shape":[1],"data_offsets":[1,2]}}""", new byte[2])), "'a'", "twice");

    [Fact]
    public void NaNInWeights()
    {
        string path = Safetensors("""{"w":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}}""", [.. BitConverter.GetBytes(1f), .. BitConverter.GetBytes(float.NaN)]);
        Fails(() => ReadAll(path), "'w'", "element 1");
        using var file = SafetensorsFile.Open(path);
        Assert.True(float.IsNaN(file.ReadFloat("w", checkFinite: false).Data[1]));
    }

    [Fact]
    public void DisallowedPickleGlobal()
    {
        // PROTO 2; GLOBAL 'os system'; SHORT_BINUNICODE 'echo'; TUPLE1; REDUCE; STOP
        byte[] pickle = [0x80, 2, .. "cos\nsystem\n"u8, 0x8c, 4, .. "echo"u8, 0x85, (byte)'R', (byte)'.'];
        Fails(() => RestrictedUnpickler.Load(pickle, "evil.pkl"), "pickle global os.system is not allowed in evil.pkl");
        string bin = Temp("evil.bin");
        using (var zip = ZipFile.Open(bin, ZipArchiveMode.Create))
            using (var s = zip.CreateEntry("anything/data.pkl").Open()) s.Write(pickle);
        Fails(() => PyTorchBin.Read(bin), "os.system");
    }

    [Fact]
    public void TruncatedZip()
    {
        var bytes = File.ReadAllBytes(Path.Combine(Tarot, "pytorch_model.bin"));
        string path = Temp("cut.bin");
        File.WriteAllBytes(path, bytes[..(bytes.Length / 2)]);
        Fails(() => PyTorchBin.Read(path), "cut.bin");
    }

    public static TheoryData<string, string> BadConfigs => new()
    {
        { """{"n_embd": 130}""", "not divisible" },
        { """{"n_layer": 0}""", "n_layer is 0" },
        { """{"model_type": "llama"}""", "model_type" },
        { """{"activation_function": "relu"}""", "relu" },
        { """{"vocab_size": null}""", "vocab_size" },
    };

    [Theory, MemberData(nameof(BadConfigs))]
    public void InconsistentConfig(string change, string fragment)
    {
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(Tarot, "config.json")))!.AsObject();
        foreach (var (key, value) in System.Text.Json.Nodes.JsonNode.Parse(change)!.AsObject())
            config[key] = value?.DeepClone();
        string path = Temp("config.json");
        File.WriteAllText(path, config.ToJsonString());
        Fails(() => Gpt2Config.Read(path), "config.json", fragment);
    }

    [Fact]
    public void MissingWeightsFileAndWrongShapes()
    {
        string dir = Path.GetDirectoryName(Temp("config.json"))!;
        File.Copy(Path.Combine(Tarot, "config.json"), Path.Combine(dir, "config.json"));
        Fails(() => Gpt2.Load(dir), "none of model.safetensors");
        var tensors = PyTorchBin.Read(Path.Combine(Tarot, "pytorch_model.bin"));
        tensors["transformer.ln_f.bias"] = new FloatTensor("transformer.ln_f.bias", [3], [1, 2, 3]);
        SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), tensors.Values);
        Fails(() => Gpt2.Load(dir), "model.safetensors: tensor 'transformer.ln_f.bias' has shape [3]", "[128]");
    }
}
