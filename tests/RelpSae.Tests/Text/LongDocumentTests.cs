using System.Text;
using System.Text.Json;
using RelpSae.Text;

namespace RelpSae.Tests.Text;

/// <summary>
/// A .txt or .jsonl document of any length streams in pieces cut at whitespace: memory stays bounded by
/// the piece, and GPT-2 packs the pieces into exactly the contexts of the uncut text.
/// </summary>
[Collection(nameof(MemoryMeasurement))]
public sealed class LongDocumentTests : IDisposable
{
    readonly string _dir = Directory.CreateTempSubdirectory("relpsae-long-docs-").FullName;

    public void Dispose() => Directory.Delete(_dir, true);

    // Runs of spaces and tabs, digits, contractions, punctuation and characters beyond the BMP, so a cut in the wrong place would show.
    const string Block = "The  café's 12345 owners\t\tdon't   sell 東京 maps, (really!) 🙂 -- they lend them ... ";

    /// <summary>Writes <paramref name="before"/> (whole documents), then one document of about <paramref name="bytes"/> on one line, ending "end".</summary>
    string WriteLine(string name, long bytes, params string[] before)
    {
        var path = Path.Combine(_dir, name);
        bool json = name.EndsWith(".jsonl");
        var block = BlockBytes(json);
        using var f = new FileStream(path, FileMode.Create, FileAccess.Write, FileShare.None, 1 << 20);
        foreach (var doc in before) f.Write(Encoding.UTF8.GetBytes(json ? JsonSerializer.Serialize(new { text = doc }) + "\n" : doc + "\n\n"));
        f.Write(json ? "{\"id\": 7, \"text\": \""u8 : ""u8);
        for (long written = 0; written < bytes; written += block.Length) f.Write(block);
        f.Write(json ? "end\", \"meta\": {\"text\": [1, \"x\"]}}\n"u8 : "end\n"u8);
        return path;
    }

    /// <summary>A thousand blocks as written; in JSON escaped (\t, \u00e9, \ud83d\ude42 …), so the stream crosses escapes too.</summary>
    static byte[] BlockBytes(bool json)
    {
        string text = string.Concat(Enumerable.Repeat(Block, 1000));
        return Encoding.UTF8.GetBytes(json ? JsonSerializer.Serialize(text)[1..^1] : text);
    }

    /// <summary>The blocks of <see cref="BlockBytes"/> that <see cref="WriteLine"/> writes for a line of <paramref name="bytes"/>.</summary>
    static long Repeats(string name, long bytes)
    {
        long blockBytes = BlockBytes(name.EndsWith(".jsonl")).Length;
        return (bytes + blockBytes - 1) / blockBytes;
    }

    [Theory]
    [InlineData("huge.txt")]
    [InlineData("huge.jsonl")]
    public void A_150_MiB_line_streams_in_bounded_pieces_cut_at_whitespace(string name)
    {
        var path = WriteLine(name, 150L << 20);
        long repeats = Repeats(name, 150L << 20);
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
        Assert.True(pieces > 20, $"{pieces} pieces");
        Assert.True(peak < 48L << 20, $"{peak >> 20} MiB held while reading a 150 MiB line");
    }

    [Theory]
    [InlineData("two.txt")]
    [InlineData("two.jsonl")]
    public void Gpt2_packs_a_cut_document_as_the_uncut_text(string name)
    {
        // Document 1: many lines (cut where a line ends or within one); document 2: one 9 MiB line.
        var lines = string.Join("\n", Enumerable.Range(0, 30_000).Select(i => $"{i}: {Block}{Block}"));
        var path = WriteLine(name, 9L << 20, "A short one.", lines);
        var tok = Gpt2Tokenizer.Load(TestPaths.Data("gpt2-tokenizer"));
        var packer = new ContextPacker(PackingOptions.Gpt2(tok, 1024));

        var pieces = Documents.ReadTokens(path, "text", tok).ToList();
        Assert.Contains(pieces, p => p.Continues);
        var second = string.Concat(Enumerable.Repeat(Block, 1000 * (int)Repeats(name, 9L << 20))) + "end";
        var expected = packer.Pack([tok.Encode("A short one."), tok.Encode(lines), tok.Encode(second)]).ToList();
        var actual = packer.Pack(pieces).ToList();
        Assert.Equal(expected.Count, actual.Count);
        for (int i = 0; i < expected.Count; i++) Assert.Equal(expected[i], actual[i]);
    }

    [Theory]
    [InlineData("\\ud800 x", "lone surrogate")]
    [InlineData("\\q", "the escape \\q, not valid JSON")]
    [InlineData("\", }", "not valid JSON")]
    public void A_long_jsonl_line_is_checked_as_strictly_as_a_short_one(string tail, string error)
    {
        var path = Path.Combine(_dir, "bad.jsonl");
        File.WriteAllText(path, "{\"text\": \"ok\"}\n{\"text\": \"" + string.Concat(Enumerable.Repeat(Encoding.UTF8.GetString(BlockBytes(json: true)), 10)) + tail + "\"}\n");
        var e = Assert.Throws<RelpSaeException>(() => Documents.Read(path).ToList());
        Assert.StartsWith($"{path} line 2: ", e.Message);
        Assert.True(e.Message.Contains(error), e.Message);
    }

    /// <summary>A token-id .jsonl: a short document, then one of <paramref name="count"/> ids (i·7919 mod 50257) on one line, then <paramref name="tail"/> closing it.</summary>
    string WriteIds(long count, string tail = "]}")
    {
        var path = Path.Combine(_dir, "ids.jsonl");
        using var f = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 20);
        f.Write("{\"input_ids\": [5, 6]}\n{\"meta\": {\"input_ids\": \"x\"}, \"input_ids\": [");
        for (long i = 0; i < count; i++) { if (i > 0) f.Write(", "); f.Write(i * 7919 % 50257); }
        f.Write(tail + "\n");
        return path;
    }

    [Fact]
    public void A_token_id_line_of_80_MiB_streams_in_bounded_pieces()
    {
        const long count = 11_000_000;
        var path = WriteIds(count);
        Assert.True(new FileInfo(path).Length > 70L << 20);
        GC.Collect();
        long before = GC.GetTotalMemory(forceFullCollection: true), peak = 0, seen = 0;
        int pieces = 0;
        foreach (var piece in Documents.ReadTokens(path, "input_ids", tokenizer: null))
        {
            if (pieces++ == 0) { Assert.Equal([5, 6], piece.Content); Assert.False(piece.Continues); continue; }
            Assert.Equal(pieces > 2, piece.Continues);
            foreach (int id in piece.Content) Assert.True(id == seen * 7919 % 50257 && seen++ < count, $"id {seen}");
            if (pieces % 16 == 0) peak = Math.Max(peak, GC.GetTotalMemory(forceFullCollection: true) - before);
        }
        Assert.Equal(count, seen);
        Assert.True(pieces > 20, $"{pieces} pieces");
        Assert.True(peak < 48L << 20, $"{peak >> 20} MiB held while reading an 80 MiB line");

        // Packed as the same ids read whole.
        var small = WriteIds(400_000);
        var packer = new ContextPacker(new PackingOptions { ContextLength = 128, BosId = 1, SeparatorId = 2 });
        int[] whole = [.. Enumerable.Range(0, 400_000).Select(i => (int)(i * 7919L % 50257))];
        Assert.Equal(packer.Pack([[5, 6], whole]), packer.Pack(Documents.ReadTokens(small, "input_ids", tokenizer: null)));
    }

    [Theory]
    [InlineData(", 1.5]}")]
    [InlineData(", -3]}")]
    [InlineData(" 7]}")]
    [InlineData(", 2147483648]}")]
    [InlineData(",]}")]
    [InlineData("]")]
    public void A_long_token_id_line_is_checked_as_strictly_as_a_short_one(string tail)
    {
        var path = WriteIds(400_000, tail);
        var e = Assert.Throws<RelpSaeException>(() => Documents.ReadTokens(path, "input_ids", tokenizer: null).ToList());
        Assert.StartsWith($"{path} line 2: ", e.Message);
    }
}

/// <summary>
/// Tests that bound the process's held memory (GC.GetTotalMemory) run alone: another test allocating
/// meanwhile (an SAE step's 50 MB matrices) would count against them.
/// </summary>
[CollectionDefinition(nameof(MemoryMeasurement), DisableParallelization = true)]
public sealed class MemoryMeasurement;
