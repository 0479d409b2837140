using RelpSae.Graphs;
using RelpSae.Model;
using RelpSae.Sae;
using RelpSae.Tests.Attribution;

namespace RelpSae.Tests.Graphs;

/// <summary>
/// Transcoders that write before Gemma's post-MLP norm (mlp.hook_out) are refused for graphs, naming the file; so is a
/// set that mixes transcoders and residual-stream SAEs, and rules that cut the MLPs for residual-stream SAEs.
/// </summary>
public class GraphFamilyTests
{
    [Fact]
    public void TranscodersWritingBeforeAPostMlpNormAreRefused()
    {
        var model = Families.Named("tiny-gemma2").Load();
        var set = Enumerable.Range(0, model.Facts.NLayers).Select(l =>
        {
            var t = TranscoderSpliceTests.RandomTranscoder(model.Facts.DModel, SaeArchitecture.JumpRelu, $"blocks.{l}.mlp.hook_in", $"blocks.{l}.mlp.hook_out", skip: false);
            return new HookedTranscoder($"layer_{l}.safetensors", t, new HookPoint(HookKind.MlpHookIn, l), new HookPoint(HookKind.MlpHookOut, l));
        }).ToList();
        var e = Assert.Throws<RelpSaeException>(() => GraphSetup.Create(model, set, TranscoderSpliceTests.Prompt, new GraphOptions()));
        Assert.Equal("layer_0.safetensors: writes blocks.0.mlp.hook_out, before this model's post-MLP norm; an attribution graph needs transcoders that write hook_mlp_out", e.Message);
    }

    [Fact]
    public void TranscodersAndResidualSaesInOneSetupAreRefused()
    {
        var model = Families.Named("tarot-gpt2").Load();
        var saes = GraphDictionaries.Load(TestPaths.Data("graph-resid-saes"), model.Facts);
        var transcoders = TranscoderSet.Load(TestPaths.Data("graph-transcoders"), model.Facts);
        var e = Assert.Throws<RelpSaeException>(() => GraphSetup.Create(model, [saes[0], .. transcoders.Skip(1)], TranscoderSpliceTests.Prompt, new GraphOptions()));
        Assert.Equal($"{transcoders[1].Source}: an attribution graph is over transcoders or over residual-stream SAEs, not both ({saes[0].Source} is an SAE)", e.Message);
    }

    [Fact]
    public void RulesThatCutTheMlpsAreRefusedForResidualSaes()
    {
        var model = Families.Named("tarot-gpt2").Load();
        var setup = GraphSetup.Create(model, GraphDictionaries.Load(TestPaths.Data("graph-resid-saes"), model.Facts), TranscoderSpliceTests.Prompt, new GraphOptions());
        var e = Assert.Throws<ArgumentException>(() => GraphAttribution.Build(setup, GraphMethod.Parse(GraphMethod.Replacement), GraphMethod.Replacement));
        Assert.StartsWith("a graph over residual-stream SAEs passes through the MLPs", e.Message);
    }
}
