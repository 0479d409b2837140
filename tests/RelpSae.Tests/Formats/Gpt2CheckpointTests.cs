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
    public void TarotBinLoadsEveryGpt2TensorWithItsShape()
    {
        var ckpt = Gpt2Checkpoint.Load(Tarot);
        var expected = Gpt2Checkpoint.ExpectedShapes(ckpt.Config).ToList();
        Assert.Equal(2 + 12 * 4 + 2, expected.Count);
        Assert.Equal(expected.Select(e => e.Name).Order(), ckpt.Tensors.Keys.Order());
        foreach (var (name, shape) in expected)
        {
            Assert.Equal(shape, ckpt.Tensors[name].Shape);
            Assert.Equal(name, ckpt.Tensors[name].Name);
        }
        Assert.Equal([1000, 128], ckpt.Tensors["wte.weight"].Shape);
        Assert.Equal([64, 128], ckpt.Tensors["wpe.weight"].Shape);
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
