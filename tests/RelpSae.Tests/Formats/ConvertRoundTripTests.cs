using RelpSae.Cli;
using RelpSae.Cli.Commands;
using RelpSae.Formats;
using RelpSae.Model;

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
    public void The_free_space_check_covers_what_convert_writes_and_refuses_less()
    {
        string output = Directory.CreateTempSubdirectory("relpsae-convert-space").FullName;
        try
        {
            var root = new System.CommandLine.RootCommand { ConvertCommand.Create() };
            Assert.Equal(0, root.Parse(["convert", "--model", Tarot, "--out", output]).Invoke());
            long written = Directory.EnumerateFiles(output).Sum(f => new FileInfo(f).Length);
            long needed = ConvertCommand.SpaceNeeded(Gpt2.Load(Tarot).Weights.ToTensors().Values, Tarot);
            // Enough for every byte written, and no more than the 1 MiB allowed for the safetensors header.
            Assert.InRange(needed - written, 0, 1 << 20);

            const string what = "model.safetensors and the copied files";
            DiskSpace.Check(output, needed, needed, what);
            var e = Assert.Throws<RelpSaeException>(() => DiskSpace.Check(output, needed - 1, needed, what));
            Assert.Equal($"--out {output}: {(needed - 1) / 1e6:F1} MB free, {what} need about {needed / 1e6:F1} MB", e.Message);
            // The figure the check is given is the file system's own.
            Assert.InRange(DiskSpace.FreeBytes(output), 1, new DriveInfo(output).TotalSize);
            // A folder not made yet is measured where it will be made (the check runs before convert creates --out).
            Assert.InRange(DiskSpace.FreeBytes(Path.Combine(output, "not", "made")), 1, new DriveInfo(output).TotalSize);
        }
        finally { Directory.Delete(output, true); }
    }

    [Fact]
    public void ConvertedFolderWithoutBinLoadsIdentically()
    {
        string output = Directory.CreateTempSubdirectory("relpsae-convert").FullName;
        var root = new System.CommandLine.RootCommand { ConvertCommand.Create() };
        Assert.Equal(0, root.Parse(["convert", "--model", Tarot, "--out", output]).Invoke());
        Assert.False(File.Exists(Path.Combine(output, "pytorch_model.bin")));
        Assert.True(File.Exists(Path.Combine(output, "tokenizer.json")) && File.Exists(Path.Combine(output, "LICENSE")));

        var (original, converted) = (Gpt2.Load(Tarot).Weights, Gpt2.Load(output).Weights);
        Assert.Equal(original.Config, converted.Config);
        var (before, after) = (original.ToTensors(), converted.ToTensors());
        Assert.Equal(before.Keys.Order(), after.Keys.Order());
        foreach (var (name, t) in before)
        {
            Assert.Equal(t.Shape, after[name].Shape);
            Assert.True(t.Data.AsSpan().SequenceEqual(after[name].Data), name);
        }
    }
}
