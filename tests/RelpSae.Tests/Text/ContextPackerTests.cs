using RelpSae.Text;

namespace RelpSae.Tests.Text;

public class ContextPackerTests
{
    const int Bos = 0, Sep = 1;

    // Documents of random lengths (some empty) whose tokens are all distinct and ≥ 2, so every token can be traced.
    static List<int[]> RandomDocs(int seed)
    {
        var random = new Random(seed);
        var next = 2;
        return [.. Enumerable.Range(0, random.Next(1, 12)).Select(_ => Enumerable.Range(0, random.Next(0, 20)).Select(_ => next++).ToArray())];
    }

    [Theory]
    [InlineData(true, true)]
    [InlineData(true, false)]
    [InlineData(false, true)]
    [InlineData(false, false)]
    public void Contexts_are_full_and_hold_the_stream_in_order(bool prependBos, bool separate)
    {
        for (var seed = 0; seed < 50; seed++)
            foreach (var length in new[] { 2, 3, 7, 16 })
            {
                var options = new PackingOptions { ContextLength = length, PrependBos = prependBos, BosId = Bos, SeparatorId = separate ? Sep : null };
                var docs = RandomDocs(seed);
                var contexts = new ContextPacker(options).Pack(docs).ToList();

                var stream = docs.SelectMany((d, i) => i > 0 && separate ? [Sep, .. d] : d).ToList();
                var chunk = length - (prependBos ? 1 : 0);
                Assert.Equal(stream.Count / chunk, contexts.Count);
                Assert.All(contexts, c => Assert.Equal(length, c.Length));
                // BOS exactly at position 0 of each context, nowhere else.
                Assert.All(contexts, c => Assert.Equal(prependBos ? [0] : [], c.Index().Where(p => p.Item == Bos).Select(p => p.Index)));
                // Stripping BOS and concatenating gives the stream, minus only the final partial chunk.
                var packed = contexts.SelectMany(c => c.Skip(prependBos ? 1 : 0)).ToList();
                Assert.Equal(stream.Take(packed.Count), packed);
                Assert.True(stream.Count - packed.Count < chunk);
            }
    }

    [Fact]
    public void Packing_text_tokenizes_without_bos_and_separates_with_end_of_text()
    {
        var tok = Gpt2Tokenizer.Load(TestPaths.Data("gpt2-tokenizer"));
        var options = PackingOptions.Gpt2(tok, 4);
        Assert.True(options.PrependBos);
        var contexts = new ContextPacker(options).Pack(["Hello world", " Hello world", "The Eiffel"], tok).ToList();
        // Stream: 15496 995 | 50256 18435 995 | 50256 464 412 733 417 → chunks of 3 behind BOS; the last 1 token is dropped.
        Assert.Equal([[50256, 15496, 995, 50256], [50256, 18435, 995, 50256], [50256, 464, 412, 733]], contexts);
    }

    [Fact]
    public void A_context_too_short_for_text_is_an_error()
    {
        Assert.Throws<RelpSaeException>(() => new ContextPacker(new PackingOptions { ContextLength = 1, BosId = Bos }));
        Assert.Equal(1, new ContextPacker(new PackingOptions { ContextLength = 1, BosId = Bos, PrependBos = false }).ChunkLength);
    }
}
