using RelpSae.Cli.Commands;
using RelpSae.Formats;

namespace RelpSae.Tests.Formats;

public class ConvertRoundTripTests
{
    private static readonly string Tarot = TestPaths.Data("tarot-gpt2");

    [Fact]
    public void BinToSafetensorsRoundTripIsBitExact()
    {
        var raw = PyTorchBin.Read(Path.Combine(Tarot, "pytorch_model.bin"));
        string path = Path.Combine(Directory.CreateTempSubdirectory("relpsae-rt").FullName, "all.safetensors");
        SafetensorsWriter.Write(path, raw.Values);
        using var file = SafetensorsFile.Open(path);
        Assert.Equal(raw.Keys.Order(StringComparer.Ordinal), file.Entries.Select(e => e.Name));
        foreach (var t in raw.Values)
        {
            var back = file.ReadFloat(t.Name);
            Assert.Equal(t.Shape, back.Shape);
            Assert.True(t.Data.Select(BitConverter.SingleToInt32Bits).SequenceEqual(back.Data.Select(BitConverter.SingleToInt32Bits)), t.Name);
        }
    }

    [Fact]
    public void ConvertedFolderWithoutBinLoadsIdentically()
    {
        string output = Directory.CreateTempSubdirectory("relpsae-convert").FullName;
        var root = new System.CommandLine.RootCommand { ConvertCommand.Create() };
        Assert.Equal(0, root.Parse(["convert", "--model", Tarot, "--out", output]).Invoke());
        Assert.False(File.Exists(Path.Combine(output, "pytorch_model.bin")));
        Assert.True(File.Exists(Path.Combine(output, "tokenizer.json")) && File.Exists(Path.Combine(output, "LICENSE")));

        var original = HfCheckpoint.Load(Tarot);
        var converted = HfCheckpoint.Load(output);
        Assert.Equal(original.Config, converted.Config);
        Assert.Equal(original.Tensors.Keys.Order(), converted.Tensors.Keys.Order());
        foreach (var (name, t) in original.Tensors)
        {
            Assert.Equal(t.Shape, converted.Tensors[name].Shape);
            Assert.True(t.Data.AsSpan().SequenceEqual(converted.Tensors[name].Data), name);
        }
    }
}
