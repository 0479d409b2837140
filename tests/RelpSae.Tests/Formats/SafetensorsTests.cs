using RelpSae.Formats;

namespace RelpSae.Tests.Formats;

public class SafetensorsTests
{
    private static string Sample(string name) => TestPaths.Data("safetensors-samples", name + ".safetensors");

    /// <summary>Each sample holds [-3..2] cast to its dtype; unsigned types wrap around modulo 2^bits.</summary>
    public static TheoryData<string, DType> Samples => new()
    {
        { "B", DType.U8 }, { "H", DType.U16 }, { "I", DType.U32 }, { "b", DType.I8 }, { "h", DType.I16 },
        { "i", DType.I32 }, { "e", DType.F16 }, { "f", DType.F32 }, { "d", DType.F64 },
    };

    private static double[] Expected(DType type) =>
        [.. new[] { -3, -2, -1, 0, 1, 2 }.Select(v => type is DType.U8 or DType.U16 or DType.U32 && v < 0 ? v + Math.Pow(2, 8 * type.Size()) : v)];

    [Theory, MemberData(nameof(Samples))]
    public void SampleReadsToItsDocumentedValues(string name, DType type)
    {
        using var file = SafetensorsFile.Open(Sample(name));
        Assert.Equal(new Dictionary<string, string> { ["test"] = "a" }, file.Metadata);
        var entry = Assert.Single(file.Entries);
        Assert.Equal((name, type), (entry.Name, entry.DType));
        Assert.Equal([6], entry.Shape);
        Assert.Equal(Expected(type), file.ReadDouble(name));
        Assert.Equal(Expected(type).Select(v => (float)v), file.ReadFloat(name).Data);
    }

    [Fact]
    public void OverallSampleHoldsEveryDtypeAtItsOffset()
    {
        using var file = SafetensorsFile.Open(Sample("overall"));
        Assert.Equal(9, file.Entries.Count);
        foreach (var (name, type) in Samples.Select(row => ((string)row[0], (DType)row[1])))
        {
            Assert.Equal(type, file.Entry(name).DType);
            Assert.Equal(Expected(type), file.ReadDouble(name));
        }
    }

    [Fact]
    public void WriterOutputReadsBackBitExactWithPaddedHeaderInNameOrder()
    {
        var rng = new Random(7);
        var tensors = new[]
        {
            new FloatTensor("zeta", [2, 3], [.. Enumerable.Range(0, 6).Select(_ => (float)rng.NextDouble() - 0.5f)]),
            new FloatTensor("alpha", [5], [float.Epsilon, -0f, 1e-38f, float.MaxValue, -3.25f]),
            new FloatTensor("empty", [0, 4], []),
        };
        string path = Path.Combine(Directory.CreateTempSubdirectory("relpsae-st").FullName, "w.safetensors");
        SafetensorsWriter.Write(path, tensors, new Dictionary<string, string> { ["format"] = "pt", ["note"] = "a \"quoted\" <b>" });

        var bytes = File.ReadAllBytes(path);
        long headerLength = BitConverter.ToInt64(bytes, 0);
        Assert.Equal(0, headerLength % 8);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(["alpha", "empty", "zeta"], file.Entries.Select(e => e.Name));
        Assert.Equal("a \"quoted\" <b>", file.Metadata["note"]);
        foreach (var t in tensors)
        {
            var back = file.ReadFloat(t.Name);
            Assert.Equal(t.Shape, back.Shape);
            Assert.Equal(t.Data.Select(BitConverter.SingleToInt32Bits), back.Data.Select(BitConverter.SingleToInt32Bits));
        }
        Assert.Empty(Directory.GetFiles(Path.GetDirectoryName(path)!, "*.tmp"));
    }

    /// <summary>The dtypes the samples lack: BF16 (upper half of float32), BOOL, I64, U64.</summary>
    [Fact]
    public void WiderAndRarerDtypesConvert()
    {
        float[] bf = [1.5f, -2f, 3.140625f];
        byte[] data =
        [
            .. bf.SelectMany(v => BitConverter.GetBytes((ushort)(BitConverter.SingleToUInt32Bits(v) >> 16))),
            1, 0, 1,
            .. new long[] { -3, long.MaxValue }.SelectMany(BitConverter.GetBytes),
            .. BitConverter.GetBytes(ulong.MaxValue),
        ];
        string path = BadFileTests.Safetensors("""
            {"bf":{"dtype":"BF16","shape":[3],"data_offsets":[0,6]},"ok":{"dtype":"BOOL","shape":[3],"data_offsets":[6,9]},
             "l":{"dtype":"I64","shape":[2],"data_offsets":[9,25]},"u":{"dtype":"U64","shape":[1],"data_offsets":[25,33]}}
            """, data);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(bf, file.ReadFloat("bf").Data);
        Assert.Equal([1f, 0f, 1f], file.ReadFloat("ok").Data);
        Assert.Equal([-3.0, long.MaxValue], file.ReadDouble("l"));
        Assert.Equal([(double)ulong.MaxValue], file.ReadDouble("u"));
    }
}
