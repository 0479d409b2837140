using RelpSae.Model;
using RelpSae.Formats;

namespace RelpSae.Tests.Formats;

public class Gpt2CheckpointTests
{
    private static readonly string Tarot = TestPaths.Data("tarot-gpt2");

    [Fact]
    public void TarotConfigReadsTheDocumentedSizes()
    {
        var c = Gpt2Config.Read(Path.Combine(Tarot, "config.json"));
        Assert.Equal((1000, 64, 128, 4, 4, 512, 1e-5f, "gelu_new", 0),
            (c.VocabSize, c.NPositions, c.DModel, c.NLayers, c.NHeads, c.DMlp, c.LayerNormEps, c.Activation, c.BosTokenId));
    }

    [Fact]
    public void TarotBinLoadsEveryGpt2TensorBitForBit()
    {
        // Every weight of the pickle (its "transformer." prefix dropped), held once and read back: the causal-mask
        // buffers are left out, and so is lm_head, tied to wte.
        var raw = PyTorchBin.Read(Path.Combine(Tarot, "pytorch_model.bin"));
        var loaded = Gpt2.Load(Tarot).Weights.ToTensors();
        var weights = raw.Values.Where(t => !t.Name.Contains(".attn.") || t.Name.Contains(".c_")).Where(t => t.Name != "lm_head.weight").ToList();
        Assert.Equal(2 + 12 * 4 + 2, weights.Count);
        Assert.Equal(weights.Select(t => t.Name["transformer.".Length..]).Order(), loaded.Keys.Order());
        foreach (var t in weights)
        {
            var back = loaded[t.Name["transformer.".Length..]];
            Assert.Equal(t.Shape, back.Shape);
            Assert.True(t.Data.AsSpan().SequenceEqual(back.Data), t.Name);
        }
    }

    /// <summary>
    /// Conv1D stores W [in, out] and computes x·W + b: input i alone (x = eᵢ) gives row i of the stored matrix plus the
    /// bias, exactly. A map packed as if it were an nn.Linear's [out, in] gives column i instead (c_proj is square, so
    /// its shape would not catch it).
    /// </summary>
    [Theory]
    [InlineData("h.1.attn.c_proj")]
    [InlineData("h.2.mlp.c_fc")]
    [InlineData("h.3.mlp.c_proj")]
    public void AConv1DMapsInputIToRowIOfItsStoredWeights(string name)
    {
        var raw = PyTorchBin.Read(Path.Combine(Tarot, "pytorch_model.bin"));
        var (w, b) = (raw["transformer." + name + ".weight"], raw["transformer." + name + ".bias"]);
        int inputs = w.Shape[0], outputs = w.Shape[1];
        var layer = Gpt2.Load(Tarot).Weights.Layers[name[2] - '0'];
        var map = name.EndsWith("attn.c_proj") ? layer.O : name.EndsWith("c_fc") ? layer.Fc : layer.Proj;
        foreach (int i in new[] { 0, 1, inputs / 2, inputs - 1 })
        {
            var x = new float[inputs];
            x[i] = 1;
            var y = new float[outputs];
            map.Apply(x, 1, y, outputs);
            Assert.Equal(Enumerable.Range(0, outputs).Select(j => w.Data[i * outputs + j] + b.Data[j]), y);
        }
    }

    /// <summary>
    /// GPT2LMHeadModel ties its head to wte unless tie_word_embeddings is false: tied, a stored lm_head is left unread
    /// (transformers overwrites it with wte too); untied, lm_head is the head.
    /// </summary>
    [Fact]
    public void LmHeadIsTheOutputHeadOnlyWhenTheConfigUntiesIt()
    {
        var tensors = PyTorchBin.Read(Path.Combine(Tarot, "pytorch_model.bin"));
        var lm = tensors["lm_head.weight"];
        tensors["lm_head.weight"] = lm with { Data = [.. lm.Data.Select(v => v + 1)] };
        var dir = Directory.CreateTempSubdirectory("relpsae-untied").FullName;
        SafetensorsWriter.Write(Path.Combine(dir, "model.safetensors"), tensors.Values);
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(Tarot, "config.json")))!.AsObject();
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        var tied = Gpt2.Load(dir).Weights;
        Assert.Same(tied.Embedding, tied.Unembed);
        Assert.Equal(lm.Data, tied.Unembed.OutIn());

        config["tie_word_embeddings"] = false;
        File.WriteAllText(Path.Combine(dir, "config.json"), config.ToJsonString());
        var untied = Gpt2.Load(dir).Weights;
        Assert.Equal(tensors["lm_head.weight"].Data, untied.Unembed.OutIn());
        Assert.Equal(lm.Data, untied.Embedding.OutIn());
        Assert.Contains("lm_head.weight", untied.ToTensors().Keys);
    }

    [Fact]
    public void TarotBinStoresLmHeadEqualToWteAndTheCausalMask()
    {
        var raw = PyTorchBin.Read(Path.Combine(Tarot, "pytorch_model.bin"));
        Assert.Equal(raw["transformer.wte.weight"].Data, raw["lm_head.weight"].Data);
        Assert.NotSame(raw["transformer.wte.weight"].Data, raw["lm_head.weight"].Data);
        // attn.bias is the lower-triangular causal mask, stored as bytes: a strided 4-d view to gather.
        var mask = raw["transformer.h.0.attn.bias"];
        Assert.Equal([1, 1, 64, 64], mask.Shape);
        for (int i = 0; i < 64; i++)
            for (int j = 0; j < 64; j++)
                Assert.Equal(j <= i ? 1f : 0f, mask.Data[i * 64 + j]);
    }
}
