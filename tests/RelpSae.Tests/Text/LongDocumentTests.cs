using System.Text;
using RelpSae.Text;

namespace RelpSae.Tests.Text;

/// <summary>
/// A .txt document of any length streams in pieces cut at whitespace: memory stays bounded by the piece,
/// and GPT-2 packs the pieces into exactly the contexts of the uncut text.
/// </summary>
public sealed class LongDocumentTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("relpsae-long-docs-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    // Runs of spaces and tabs, digits, contractions, punctuation and characters beyond the BMP, so a cut in the wrong place would show.
    const string Block = "The  café's 12345 owners\t\tdon't   sell 東京 maps, (really!) 🙂 -- they lend them ... ";

    string WriteLine(string name, long bytes, string? before = null)
    {
        var path = Path.Combine(_dir, name);
        var block = Encoding.UTF8.GetBytes(string.Concat(Enumerable.Repeat(Block, 1000)));
        using var f = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        if (before is not null) f.Write(Encoding.UTF8.GetBytes(before));
        for (long written = 0; written < bytes; written += block.Length) f.Write(block);
        f.Write("end\n"u8);
        return path;
    }

    [Fact]
    public void A_150_MiB_line_streams_in_bounded_pieces_cut_at_whitespace()
    {
        var path = WriteLine("huge.txt", 150L << 20);
        long blockBytes = Encoding.UTF8.GetByteCount(Block) * 1000L, repeats = ((150L << 20) + blockBytes - 1) / blockBytes;
        GC.Collect();
        long before = GC.GetTotalMemory(forceFullCollection: true), peak = 0, chars = 0;
        int pieces = 0;
        char last = ' ';
        foreach (var piece in Documents.Read(path))
        {
            Assert.Equal(pieces > 0, piece.Continues);
            Assert.InRange(piece.Content.Length, 1, PieceCutter.PieceChars);
            // Each cut falls where whitespace follows a word.
            if (pieces > 0) Assert.True(!char.IsWhiteSpace(last) && char.IsWhiteSpace(piece.Content[0]), $"cut between '{last}' and '{piece.Content[0]}'");
            last = piece.Content[^1];
            chars += piece.Content.Length;
            if (++pieces % 8 == 0) peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true) - before);
        }
        Assert.Equal(repeats * Block.Length * 1000 + "end".Length, chars);
        Assert.True(pieces > 30, $"{pieces} pieces");
        Assert.True(peak < 48L << 20, $"{peak >> 20} MiB held while reading a 150 MiB line");
    }

    [Fact]
    public void Gpt2_packs_a_cut_document_as_the_uncut_text()
    {
        // Document 1: many lines (cut where a line ends or within one); document 2: one 9 MiB line.
        var lines = string.Join("\n", Enumerable.Range(0, 30_000).Select(i => $"{i}: {Block}{Block}"));
        var path = WriteLine("two.txt", 9L << 20, lines + "\n\n");
        var tok = Gpt2Tokenizer.Load(TestPaths.Data("gpt2-tokenizer"));
        var packer = new ContextPacker(PackingOptions.Gpt2(tok, 1024));

        var pieces = Documents.ReadTokens(path, "text", tok).ToList();
        Assert.Contains(pieces, p => p.Continues);
        var second = File.ReadAllText(path)[(lines.Length + 2)..^1];
        var expected = packer.Pack([tok.Encode(lines), tok.Encode(second)]).ToList();
        var actual = packer.Pack(pieces).ToList();
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i], actual[i]);
    }
}
