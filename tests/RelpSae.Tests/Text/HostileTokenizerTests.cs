using System.Text;
using System.Text.Json.Nodes;
using RelpSae.Text;

namespace RelpSae.Tests.Text;

/// <summary>Crafted tokenizer files: each is a one-line error naming the file and what is wrong, never an internal error.</summary>
public class HostileTokenizerTests
{
    private static readonly string TarotJson = File.ReadAllText(TestPaths.Data("tarot-gpt2", "tokenizer.json"));

    /// <summary>The tarot tokenizer.json changed by <paramref name="change"/>, in a folder of its own.</summary>
    private static string Folder(Action<JsonObject> change)
    {
        var json = JsonNode.Parse(TarotJson)!.AsObject();
        change(json);
        var dir = Directory.CreateTempSubdirectory("relpsae-tok").FullName;
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), json.ToJsonString());
        return dir;
    }

    private static void Refused(string dir, params string[] fragments)
    {
        var e = Assert.Throws<RelpSaeException>(() => Gpt2Tokenizer.Load(dir));
        Assert.DoesNotContain('\n', e.Message);
        Assert.Contains("tokenizer.json", e.Message);
        foreach (var f in fragments) Assert.Contains(f, e.Message);
    }

    private static JsonObject Model(JsonObject root) => root["model"]!.AsObject();
    private static JsonObject Vocab(JsonObject root) => Model(root)["vocab"]!.AsObject();

    [Fact] public void MergeOfAbsentTokens() => Refused(Folder(t => Model(t)["merges"]!.AsArray().Insert(0, "zzq qzz")), "merge 0", "\"zzq\"", "not in the vocabulary");
    [Fact] public void DuplicateIds() => Refused(Folder(t => Vocab(t)["Ġsomething"] = 5), "both have id 5");
    [Fact] public void HugeId() => Refused(Folder(t => Vocab(t)["Ġsomething"] = int.MaxValue), "id 2147483647", "beyond any vocabulary");
    [Fact] public void NegativeId() => Refused(Folder(t => Vocab(t)["Ġsomething"] = -3), "id -3");
    [Fact] public void NumericModelType() => Refused(Folder(t => Model(t)["type"] = 5), "model type is 5");
    [Fact] public void NumericAddedTokenContent() => Refused(Folder(t => t["added_tokens"]![0]!["content"] = 7), "added_tokens entry 0");
    [Fact] public void NegativeAddedTokenId() => Refused(Folder(t => t["added_tokens"]![0]!["id"] = -1), "added_tokens entry 0");
    [Fact] public void Dropout() => Refused(Folder(t => Model(t)["dropout"] = 0.1), "model.dropout is 0.1");
    [Fact] public void UnknownToken() => Refused(Folder(t => Model(t)["unk_token"] = "<unk>"), "model.unk_token");
    [Fact] public void EndOfWordSuffix() => Refused(Folder(t => Model(t)["end_of_word_suffix"] = "</w>"), "model.end_of_word_suffix");

    [Fact]
    public void AHugeBadMergeIsCutInTheMessage()
    {
        var dir = Folder(t => Model(t)["merges"]!.AsArray().Insert(0, new string('x', 1_000_000) + " y"));
        var e = Assert.Throws<RelpSaeException>(() => Gpt2Tokenizer.Load(dir));
        Assert.Contains("(1000002 characters)", e.Message);
        Assert.True(e.Message.Length < 400, $"{e.Message.Length} characters");
    }

    [Fact]
    public void VocabularyMissingAByteToken()
    {
        // Without 'ǅ''s bytes the text "aǅb" once encoded to 3 ids; now the vocabulary itself is refused.
        Refused(Folder(t =>
        {
            Vocab(t).Remove("Ã");
            Model(t)["merges"] = new JsonArray([.. Model(t)["merges"]!.AsArray().Select(m => m!.GetValue<string>()).Where(m => !m.Contains('Ã')).Select(m => (JsonNode)m)]);
        }), "byte 0xC3", "needs all 256");
    }

    [Fact]
    public void OnlyEndOfTextIsNotAVocabulary() => Refused(Folder(t =>
    {
        Model(t)["vocab"] = new JsonObject { ["<|endoftext|>"] = 0 };
        Model(t)["merges"] = new JsonArray();
    }), "lacks the token for byte 0x00");

    [Fact]
    public void InvalidUtf8Key()
    {
        var dir = Directory.CreateTempSubdirectory("relpsae-tok").FullName;
        var bytes = Encoding.UTF8.GetBytes(TarotJson.Replace("\"Ġsomething\"", "\"@@\""));
        int at = bytes.AsSpan().IndexOf("\"@@\""u8);
        Assert.True(at > 0);
        bytes[at + 1] = 0xC3;                                      // a lead byte followed by '@': not UTF-8
        File.WriteAllBytes(Path.Combine(dir, "tokenizer.json"), bytes);
        Refused(dir, "not valid UTF-8");
    }

    [Fact]
    public void LoneSurrogateKeyAndText()
    {
        var dir = Directory.CreateTempSubdirectory("relpsae-tok").FullName;
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), TarotJson.Replace("\"Ġsomething\"", "\"\\ud800\""));
        Refused(dir, "cannot be read as text");
        var tok = Gpt2Tokenizer.Load(TestPaths.Data("tarot-gpt2"));
        var e = Assert.Throws<RelpSaeException>(() => tok.Encode("a\ud800b"));
        Assert.Contains("lone surrogate \\uD800 at character 1", e.Message);
    }
}
