using RelpSae.Graphs;
using RelpSae.Model;
using RelpSae.Sae;
using RelpSae.Tests.Attribution;
using RelpSae.Tests.Sae;

namespace RelpSae.Tests.Graphs;

/// <summary>
/// Over residual-stream SAEs the gradient graph's edge is the slope of the true direct effect in every family: holding
/// every hook_resid_post is what the backward pass's cut at those hooks computes, and the pass runs through attention,
/// norms and MLPs exactly, so a_s·∂t/∂a_s is what removing ±ε of the source moves the target by, over ε. This covers
/// what the PyTorch oracle (GPT-2 alone) does not: attention and MLP in parallel (seeds into both branches), Gemma-2's
/// post-norms, gated MLPs.
/// </summary>
public class ResidualSaeGradientEdgeTests
{
    [Theory]
    [MemberData(nameof(DirectEffectsTests.AllFamilies), MemberType = typeof(DirectEffectsTests))]
    public void EachGradientEdgeIsTheSlopeOfItsTrueDirectEffect(string folder)
    {
        var model = Families.Named(folder).Load();
        int L = model.Facts.NLayers, d = model.Facts.DModel;
        var set = Enumerable.Range(0, L).Select(l => GraphDictionaries.AtResidual(new HookedSae($"sae {l}",
            SaeTestData.RandomSae(SaeTestData.Config(SaeArchitecture.Standard, d, 16), seed: 41 + (ulong)l), new HookPoint(HookKind.ResidPost, l)))).ToList();
        var tokens = TranscoderSpliceTests.Prompt;
        var setup = GraphSetup.Create(model, set, tokens, new GraphOptions());
        var graph = GraphAttribution.Build(setup, GraphMethod.Parse("gradient", residualSaes: true), "gradient");

        // Targets: a feature of each layer at the last position; sources: every feature, error and embedding.
        int T = tokens.Length;
        var targets = Enumerable.Range(0, L).Select(l => Enumerable.Range(0, graph.FeatureCount).First(i => graph.Nodes[i].Layer == l && graph.Nodes[i].Position == T - 1)).ToArray();
        // Position 0's error nodes are no nodes after a BOS (their edges are zero; removing them moves the targets).
        bool bos = tokens[0] == model.Facts.BosTokenId;
        var sources = Enumerable.Range(0, graph.LogitStart).Where(s => !(bos && graph.Nodes[s].Kind == GraphNodeKind.Error && graph.Nodes[s].Position == 0)).ToArray();
        var splices = RelpSae.Attribution.TranscoderSplice.All(model, set, tokens);
        EdgeSource Source(GraphNode n) => n.Kind switch
        {
            GraphNodeKind.Feature => EdgeSource.ForFeature(n.Layer, n.Position, n.Index),
            GraphNodeKind.Error => EdgeSource.ForError(n.Layer, n.Position),
            _ => EdgeSource.ForToken(n.Position),
        };
        var edgeSources = sources.Select(s => Source(graph.Nodes[s])).ToArray();
        var edgeTargets = targets.Select(t => EdgeTarget.FeatureInput(graph.Nodes[t].Layer, T - 1, graph.Nodes[t].Index)).ToArray();
        const float h = 1e-3f; // at 1e-2 the second-order term shows on the largest edges
        var plus = DirectEffects.Measure(model, tokens, splices, edgeSources, edgeTargets, scale: h);
        var minus = DirectEffects.Measure(model, tokens, splices, edgeSources, edgeTargets, scale: -h);

        double largest = targets.Max(t => sources.Max(s => Math.Abs(graph.Edge(t, s))));
        Assert.True(largest > 1e-2, "every edge is zero");
        for (int j = 0; j < targets.Length; j++)
            for (int i = 0; i < sources.Length; i++)
            {
                double slope = (plus[i, j] - minus[i, j]) / (2 * h), edge = graph.Edge(targets[j], sources[i]);
                Assert.True(Math.Abs(slope - edge) <= 2e-3 * largest, $"{edgeSources[i]} → {edgeTargets[j]}: slope {slope} vs edge {edge} (largest {largest})");
            }
    }
}
