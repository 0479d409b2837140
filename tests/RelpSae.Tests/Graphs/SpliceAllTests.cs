using RelpSae.Attribution;

namespace RelpSae.Tests.Graphs;

/// <summary>Every layer's transcoder spliced from one clean pass holds what splicing each alone holds, bit for bit.</summary>
public class SpliceAllTests
{
    [Theory]
    [InlineData("tarot-gpt2")]
    [InlineData("tiny-gemma3")]
    public void OnePassSplicesEveryLayerAsSeparatePassesWould(string folder)
    {
        var f = new GraphFixture(folder, skip: true);
        for (int l = 0; l < f.Layers; l++)
        {
            var alone = TranscoderSplice.Create(f.Model, f.Splices[l].Transcoder, $"layer {l}", GraphFixture.Prompt);
            Assert.Equal(alone.InputHook, f.Splices[l].InputHook);
            Assert.Equal(alone.OutputHook, f.Splices[l].OutputHook);
            Assert.Equal(alone.Input, f.Splices[l].Input);
            Assert.Equal(alone.TrueOutput, f.Splices[l].TrueOutput);
            Assert.Equal(alone.Features, f.Splices[l].Features);
            Assert.Equal(alone.Error, f.Splices[l].Error);
        }
    }
}
