using System.Text.Json;
using RelpSae.Text;

namespace RelpSae.Tests.Text;

public class Gpt2TokenizerTests
{
    static readonly Lazy<Gpt2Tokenizer> Gpt2 = new(() => Gpt2Tokenizer.Load(TestPaths.Data("gpt2-tokenizer")));
    static readonly Lazy<Gpt2Tokenizer> Tarot = new(() => Gpt2Tokenizer.Load(TestPaths.Data("tarot-gpt2")));

    [Theory]
    [InlineData("Hello world", new[] { 15496, 995 })]
    [InlineData(" Hello world", new[] { 18435, 995 })]
    [InlineData("The Eiffel Tower is located in the city of", new[] { 464, 412, 733, 417, 8765, 318, 5140, 287, 262, 1748, 286 })]
    public void Gpt2_encodes_known_prompts(string text, int[] expected)
    {
        Assert.Equal(expected, Gpt2.Value.Encode(text));
        Assert.Equal(text, Gpt2.Value.Decode(expected));
    }

    [Fact]
    public void Gpt2_end_of_text_is_one_special_token_inside_text()
    {
        var tok = Gpt2.Value;
        Assert.Equal(50256, tok.EndOfTextId);
        Assert.Equal(50257, tok.VocabSize);
        Assert.Equal([15496, 50256, 995], tok.Encode("Hello<|endoftext|> world"));
        Assert.Equal("Hello<|endoftext|> world", tok.Decode([15496, 50256, 995]));
    }

    [Fact]
    public void Encode_adds_no_bos_and_empty_text_is_empty()
    {
        Assert.Empty(Gpt2.Value.Encode(""));
        Assert.NotEqual(Gpt2.Value.EndOfTextId, Gpt2.Value.Encode("Hello")[0]);
    }

    [Theory]
    [InlineData("Zürich – 東京")]
    [InlineData("🙂👍")]
    [InlineData("  two  spaces\n\nnew paragraph\ttab 123,456 it's we'll")]
    public void Non_ascii_text_round_trips(string text)
    {
        foreach (var tok in new[] { Gpt2.Value, Tarot.Value })
            Assert.Equal(text, tok.Decode(tok.Encode(text)));
    }

    [Fact]
    public void Tarot_tokenizer_json_matches_the_checkpoint()
    {
        var tok = Tarot.Value;
        Assert.Equal(0, tok.EndOfTextId);
        Assert.Equal(1000, tok.VocabSize);
        int[] love = [44, 79, 296];
        Assert.Equal(love, tok.Encode("Love"));
        int[] greedy = [271, 724, 338, 451, 298, 395, 419, 265, 288, 282, 482, 388, 261, 327, 672, 395, 972, 553, 474, 265];
        const string continuation = " the moment but there is no need to panic – you are under no obligation to";
        Assert.Equal(continuation, tok.Decode(greedy));
        Assert.Equal("Love" + continuation, tok.Decode([.. love, .. greedy]));
        Assert.Equal(greedy, tok.Encode(continuation));
    }

    [Fact]
    public void Vocab_and_merges_agree_with_an_equivalent_tokenizer_json()
    {
        // Build tokenizer.json from the same vocab.json + merges.txt, with merges as pairs (the newer HF layout).
        var dir = Directory.CreateTempSubdirectory("relpsae-tok-").FullName;
        try
        {
            var vocab = JsonSerializer.Deserialize<Dictionary<string, int>>(File.ReadAllText(TestPaths.Data("gpt2-tokenizer", "vocab.json")))!;
            var merges = File.ReadLines(TestPaths.Data("gpt2-tokenizer", "merges.txt")).Skip(1).Where(l => l.Length > 0)
                .Select(l => l.Split(' ')).ToList();
            var json = new
            {
                added_tokens = new[] { new { id = 50256, content = "<|endoftext|>", special = true } },
                model = new { type = "BPE", vocab, merges },
            };
            File.WriteAllText(Path.Combine(dir, "tokenizer.json"), JsonSerializer.Serialize(json));
            var fromJson = Gpt2Tokenizer.Load(dir);
            foreach (var text in new[] { "The Eiffel Tower is located in the city of", "Zürich – 東京 🙂👍", "a<|endoftext|>b", " don't  stop\n" })
                Assert.Equal(Gpt2.Value.Encode(text), fromJson.Encode(text));
            Assert.Equal(Gpt2.Value.VocabSize, fromJson.VocabSize);
            Assert.Equal(Gpt2.Value.EndOfTextId, fromJson.EndOfTextId);
        }
        finally { Directory.Delete(dir, true); }
    }

    [Fact]
    public void Single_token_resolves_or_shows_how_the_text_splits()
    {
        var tok = Gpt2.Value;
        Assert.Equal(995, tok.SingleToken(" world"));
        // " Eiffel" splits as in the known encoding of "The Eiffel Tower ..." (SOURCES.md).
        var e = Assert.Throws<RelpSaeException>(() => tok.SingleToken(" Eiffel", "target"));
        Assert.Equal("target \" Eiffel\" is 3 tokens: [\" E\", \"iff\", \"el\"] = [412, 733, 417]", e.Message);
    }

    [Fact]
    public void Token_text_shows_partial_characters_as_bytes_and_escapes_controls()
    {
        var tok = Gpt2.Value;
        Assert.Equal(" world", tok.TokenText(995));
        Assert.Equal("\\n", tok.TokenText(tok.SingleToken("\n")));
        var emoji = tok.Encode("🙂");
        Assert.True(emoji.Length > 1);
        var shown = string.Concat(emoji.Select(tok.TokenText));
        Assert.Equal("\\xF0\\x9F\\x99\\x82", shown);
    }

    [Fact]
    public void Bad_ids_and_folders_are_one_line_errors()
    {
        Assert.Contains("50257", Assert.Throws<RelpSaeException>(() => Gpt2.Value.Decode([50257])).Message);
        Assert.Contains("-1", Assert.Throws<RelpSaeException>(() => Gpt2.Value.TokenText(-1)).Message);
        var dir = Directory.CreateTempSubdirectory("relpsae-tok-").FullName;
        try
        {
            Assert.Contains(dir, Assert.Throws<RelpSaeException>(() => Gpt2Tokenizer.Load(dir)).Message);
            var json = Path.Combine(dir, "tokenizer.json");
            File.WriteAllText(json, "{ \"model\": { \"vocab\": ");
            Assert.Contains(json, Assert.Throws<RelpSaeException>(() => Gpt2Tokenizer.Load(dir)).Message);
            File.WriteAllText(json, "{ \"model\": { \"type\": \"BPE\", \"vocab\": {\"a\": 0}, \"merges\": [1] } }");
            Assert.Contains(json, Assert.Throws<RelpSaeException>(() => Gpt2Tokenizer.Load(dir)).Message);
            // A pipeline that is not GPT-2's would tokenize differently: refused, not approximated.
            File.WriteAllText(json, "{ \"pre_tokenizer\": { \"type\": \"ByteLevel\", \"add_prefix_space\": true }, \"model\": { \"type\": \"BPE\", \"vocab\": {}, \"merges\": [] } }");
            Assert.Contains("pre_tokenizer", Assert.Throws<RelpSaeException>(() => Gpt2Tokenizer.Load(dir)).Message);
        }
        finally { Directory.Delete(dir, true); }
    }
}
