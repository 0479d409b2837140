using RelpSae.Prompts;
using RelpSae.Text;

namespace RelpSae.Tests.Text;

/// <summary>
/// Data sets and prompt files with invalid UTF-8, lone surrogates, damaged Parquet or one huge line:
/// a one-line error naming the file and line, with memory bounded by the line limit, not the file.
/// </summary>
public sealed class HostileDatasetTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("relpsae-hostile-docs-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    string Write(string name, byte[] content)
    {
        var path = Path.Combine(_dir, name);
        File.WriteAllBytes(path, content);
        return path;
    }

    static RelpSaeException Refused(Action read, params string[] fragments)
    {
        var e = Assert.Throws<RelpSaeException>(read);
        Assert.DoesNotContain('\n', e.Message);
        foreach (var f in fragments) Assert.Contains(f, e.Message);
        return e;
    }

    [Theory]
    [InlineData("d.txt", 3)]
    [InlineData("d.jsonl", 2)]
    public void InvalidUtf8IsRefusedWithFileAndLine(string name, int line)
    {
        byte[] bad = name.EndsWith(".txt") ? [.. "first\n\nsecond "u8, 0xFF, .. "\n"u8] : [.. "{\"text\":\"a\"}\n{\"text\":\"b"u8, 0xC3, 0x28, .. "\"}\n"u8];
        var path = Write(name, bad);
        Refused(() => Documents.Read(path).ToList(), $"{name} line {line}", "not valid UTF-8");
    }

    [Fact]
    public void LoneSurrogateInADatasetOrPromptFile()
    {
        var data = Write("s.jsonl", "{\"text\":\"ok\"}\n{\"text\":\"x\\ud800y\"}\n"u8.ToArray());
        Refused(() => Documents.Read(data).ToList(), "s.jsonl line 2", "lone surrogate");
        var prompts = Write("p.jsonl", "{\"prompt\":\"a\\udc00\"}\n"u8.ToArray());
        Refused(() => PromptFile.Read(prompts), "p.jsonl:1", "\"prompt\"", "lone surrogate");
    }

    [Fact]
    public void InvalidUtf8InAPromptFile()
    {
        var prompts = Write("p.jsonl", [.. "{\"prompt\":\"fine\"}\n{\"prompt\":\"caf"u8, 0xE9, .. "\"}\n"u8]);
        Refused(() => PromptFile.Read(prompts), "p.jsonl line 2", "not valid UTF-8");
    }

    [Fact]
    public void DamagedParquetIsAUserError()
    {
        var bytes = new byte[4096];
        new Random(7).NextBytes(bytes);
        "PAR1"u8.CopyTo(bytes);
        "PAR1"u8.CopyTo(bytes.AsSpan(bytes.Length - 4));
        BitConverter.GetBytes(100).CopyTo(bytes, bytes.Length - 8);   // a footer of 100 random bytes
        var path = Write("bad.parquet", bytes);
        Refused(() => Documents.Read(path).ToList(), "bad.parquet", "not a readable Parquet file");
    }

    [Fact]
    public async Task InvalidUtf8InAParquetTextColumnIsRefusedWithRowAndColumn()
    {
        // Written uncompressed with a placeholder, whose bytes are then made invalid UTF-8 (0xFF, and 0xC3 without its continuation).
        var path = Path.Combine(_dir, "bad.parquet");
        var field = new Parquet.Schema.DataField<string>("text");
        await using (var stream = File.Create(path))
        await using (var writer = await Parquet.ParquetWriter.CreateAsync(new Parquet.Schema.ParquetSchema(field), stream,
            new Parquet.ParquetOptions { CompressionMethod = Parquet.CompressionMethod.None }))
        {
            using var group = writer.CreateRowGroup();
            await group.WriteAsync(field, new[] { "fine", "café QQQQ here" });
        }
        var bytes = File.ReadAllBytes(path);
        int patched = 0;
        for (int i; (i = bytes.AsSpan().IndexOf("QQQQ"u8)) >= 0; patched++) new byte[] { 0xFF, 0xC3, 0x28, (byte)'x' }.CopyTo(bytes, i);
        Assert.True(patched > 0);
        File.WriteAllBytes(path, bytes);
        Refused(() => Documents.Read(path).ToList(), "bad.parquet: row 1 of row group 0, column \"text\"", "not valid UTF-8");
    }

    [Theory]
    [InlineData("huge.jsonl", "longer than 16 MiB")]
    [InlineData("huge.txt", "16 MiB of text without a space or newline after a word")]
    public void AHugeLineThatCannotBeReadInPiecesIsRefusedWithoutHoldingIt(string name, string error)
    {
        // A 64 MiB line (sparse zeros, no place to cut a .txt document): memory stays near the 16 MiB line limit, not the line.
        var path = Path.Combine(_dir, name);
        using (var f = File.Create(path))
        {
            f.Write("{\"text\":\"short\"}\n"u8);
            f.SetLength(f.Length + (64 << 20));
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        Refused(() => Documents.Read(path).ToList(), $"{name} line 2", error);
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;
        Assert.True(allocated < 200L << 20, $"allocated {allocated >> 20} MiB");
    }

    [Fact]
    public void AHugePromptLineIsRefusedWithoutHoldingIt()
    {
        // Prompts are short: a prompt file keeps the 16 MiB line bound rather than streaming.
        var path = Path.Combine(_dir, "p.jsonl");
        using (var f = File.Create(path))
        {
            f.Write("{\"prompt\":\"fine\"}\n"u8);
            f.SetLength(f.Length + (20 << 20));
        }
        long before = GC.GetAllocatedBytesForCurrentThread();
        Refused(() => PromptFile.Read(path), "p.jsonl line 2: longer than 16 MiB; split the document");
        Assert.True(GC.GetAllocatedBytesForCurrentThread() - before < 100L << 20);
    }
}
