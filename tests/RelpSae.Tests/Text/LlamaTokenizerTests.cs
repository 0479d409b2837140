using System.Text.Json;
using RelpSae.Text;

namespace RelpSae.Tests.Text;

/// <summary>
/// The Llama-family tokenizer formats against the sentencepiece library's own encodings of a tiny model
/// trained locally (scripts/tokenizer_reference.py): tokenizer.model through Microsoft.ML.Tokenizers'
/// LlamaTokenizer, and the same model as a Hugging Face tokenizer.json (BPE with byte fallback).
/// </summary>
public class LlamaTokenizerTests
{
    public static TheoryData<string> Files => new() { "tokenizer.model", "tokenizer.json" };

    private static IEnumerable<(string Text, int[] Ids, string Decoded)> Expected()
    {
        using var doc = JsonDocument.Parse(File.ReadAllBytes(TestPaths.Data("sp-tiny", "expected.json")));
        return doc.RootElement.EnumerateArray().Select(e => (e.GetProperty("text").GetString()!,
            e.GetProperty("ids").EnumerateArray().Select(i => i.GetInt32()).ToArray(), e.GetProperty("decoded").GetString()!)).ToList();
    }

    private static ITextTokenizer Load(string file)
    {
        // Each format alone in a folder, as a model folder would hold it.
        var dir = Directory.CreateTempSubdirectory("relp-tok-").FullName;
        File.Copy(TestPaths.Data("sp-tiny", file), Path.Combine(dir, file));
        var tokenizer = TokenizerFiles.Load(dir)!;
        Directory.Delete(dir, true);
        return tokenizer;
    }

    [Theory, MemberData(nameof(Files))]
    public void EncodingsAreSentencePiecesOwn(string file)
    {
        var tokenizer = Load(file);
        Assert.Equal(420, tokenizer.VocabSize);
        foreach (var (text, ids, decoded) in Expected())
        {
            Assert.Equal(ids, tokenizer.Encode(text));
            Assert.Equal(decoded, tokenizer.Decode(ids));
        }
    }

    [Fact]
    public void CharactersOutsideTheVocabularyFallBackToTheirBytes()
    {
        var tokenizer = Load("tokenizer.json");
        // 🙂 is F0 9F 99 82: byte tokens <0xF0> … are ids 3 + byte.
        var ids = tokenizer.Encode("🙂");
        Assert.Equal([3 + 0xF0, 3 + 0x9F, 3 + 0x99, 3 + 0x82], ids[^4..]);
        Assert.Equal("🙂", tokenizer.Decode(ids));
    }

    [Fact]
    public void FoldersWithoutATokenizerHaveNoneAndBadFilesSaySo()
    {
        Assert.Null(TokenizerFiles.Load(TestPaths.Data("stories260K-llama")));
        var dir = Directory.CreateTempSubdirectory("relp-tok-").FullName;
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "tokenizer.model"), [1, 2, 3, 4, 5]);
            var e = Assert.Throws<RelpSaeException>(() => TokenizerFiles.Load(dir));
            Assert.Contains("tokenizer.model: not a SentencePiece BPE model", e.Message);
            Assert.Contains("token id 999 is not in the vocabulary", Assert.Throws<RelpSaeException>(() => Load("tokenizer.json").Decode([999])).Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
