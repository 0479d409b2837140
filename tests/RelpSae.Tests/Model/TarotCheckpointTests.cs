using RelpSae.Text;
using RelpSae.Formats;
using RelpSae.Model;

namespace RelpSae.Tests.Model;

/// <summary>The real tarot GPT-2 checkpoint against an independent NumPy forward pass (TestData/SOURCES.md).</summary>
public class TarotCheckpointTests
{
    internal static readonly Lazy<Gpt2> Tarot = new(() => Gpt2.Load(TestPaths.Data("tarot-gpt2")));

    private static readonly int[] Love = [44, 79, 296];
    private static readonly int[] Greedy = [271, 724, 338, 451, 298, 395, 419, 265, 288, 282, 482, 388, 261, 327, 672, 395, 972, 553, 474, 265];

    [Fact]
    public void TopFiveNextTokenLogitsMatchTheReference() => AssertTopFive(Tarot.Value);

    [Fact]
    public void GreedyContinuationMatchesTheReference() => Assert.Equal(Greedy, GreedyIds(Tarot.Value, 20));

    [Fact]
    public void RoundTripThroughSafetensorsGivesTheSameModel()
    {
        var dir = Directory.CreateTempSubdirectory().FullName;
        SafetensorsWriter.Write(Path.Combine(dir, ShardedCheckpoint.SafetensorsFile), Tarot.Value.Weights.ToTensors().Values);
        foreach (var file in new[] { "config.json", "tokenizer.json" })
            File.Copy(TestPaths.Data("tarot-gpt2", file), Path.Combine(dir, file));
        Assert.Equal(["config.json", "model.safetensors", "tokenizer.json"], Directory.GetFiles(dir).Select(Path.GetFileName).Order());
        var model = ModelFolder.Load(dir);
        Assert.Equal(Love, model.Encode("Love"));
        Assert.Equal([((Gpt2Tokenizer)model.Tokenizer!).EndOfTextId, .. Love], model.Encode("Love", prependBos: true));
        AssertTopFive((Gpt2)model.Transformer);
        Assert.Equal(Greedy, GreedyIds((Gpt2)model.Transformer, 20));
    }

    private static void AssertTopFive(Gpt2 model)
    {
        var logits = model.Forward(Love, 1).Logits;
        var top = Enumerable.Range(0, logits.Length).OrderByDescending(i => logits[i]).Take(5).ToArray();
        (int Id, float Logit)[] expected = [(271, 17.389f), (76, 12.146f), (783, 9.875f), (479, 9.388f), (670, 9.372f)];
        Assert.Equal(expected.Select(e => e.Id), top);
        foreach (var (id, logit) in expected) Assert.Equal(logit, logits[id], 1e-3);
    }

    private static int[] GreedyIds(Gpt2 model, int count) => Generation.Continue(model, Love, count);

    [Fact]
    public void SamplingIsSeededAndStaysInTheContext()
    {
        var model = Tarot.Value;
        var a = Generation.Continue(model, Love, 10, temperature: 3, seed: 5);
        Assert.Equal(a, Generation.Continue(model, Love, 10, temperature: 3, seed: 5));
        Assert.NotEqual(a, Generation.Continue(model, Love, 10, temperature: 3, seed: 6));
        Assert.All(a, id => Assert.InRange(id, 0, model.Config.VocabSize - 1));
        Assert.Contains("n_positions", Assert.Throws<SettingException>(() => Generation.Continue(model, Love, 62)).Message);
        Assert.Equal([0, 44, 79, 296], Generation.PrependBos(model.Facts, Love));
    }
}
