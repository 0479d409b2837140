using RelpSae.Attribution;
using RelpSae.Graphs;
using RelpSae.Model;
using RelpSae.Sae;
using RelpSae.Tests.Attribution;

namespace RelpSae.Tests.Graphs;

/// <summary>
/// A family fixture with a random transcoder spliced at every layer (ln2.hook_normalized → hook_mlp_out) for one prompt,
/// and a spread of graph nodes on it: the prompt's tokens, active and inactive features and error nodes at every layer,
/// feature inputs at every layer and logits (plain and demeaned, at the last position and before it).
/// </summary>
internal sealed class GraphFixture
{
    public static readonly int[] Prompt = TranscoderSpliceTests.Prompt;

    public GraphFixture(string folder, bool skip = false)
    {
        Model = Families.Named(folder).Load();
        int d = Model.Facts.DModel;
        var set = Enumerable.Range(0, Model.Facts.NLayers).Select(l =>
        {
            var t = TranscoderSpliceTests.RandomTranscoder(d, SaeArchitecture.JumpRelu,
                new HookPoint(HookKind.Ln2Normalized, l).Name, new HookPoint(HookKind.MlpOut, l).Name, skip, seed: 11 + l);
            var (input, output) = t.Hooks(Model.Facts, $"layer {l}");
            return new HookedTranscoder($"layer {l}", t, input, output);
        }).ToList();
        Splices = TranscoderSplice.All(Model, set, Prompt);
    }

    public ITransformer Model { get; }
    public IReadOnlyList<TranscoderSplice> Splices { get; }
    public int Layers => Model.Facts.NLayers;
    public int Last => Prompt.Length - 1;

    /// <summary>The first feature active (or inactive) at a layer and position.</summary>
    public int Feature(int layer, int position, bool active = true)
    {
        var s = Splices[layer];
        int n = s.Transcoder.DSae;
        for (int i = 0; i < n; i++)
            if (s.Features[position * n + i] != 0 == active) return i;
        throw new InvalidOperationException($"no {(active ? "active" : "inactive")} feature at layer {layer}, position {position}");
    }

    public EdgeSource[] Sources()
    {
        var sources = new List<EdgeSource> { EdgeSource.ForToken(0), EdgeSource.ForToken(2), EdgeSource.ForToken(Last) };
        for (int l = 0; l < Layers; l++)
            foreach (int p in new[] { 1, Last })
            {
                sources.Add(EdgeSource.ForFeature(l, p, Feature(l, p)));
                sources.Add(EdgeSource.ForError(l, p));
            }
        sources.Add(EdgeSource.ForFeature(0, 3, Feature(0, 3, active: false)));
        return [.. sources];
    }

    public EdgeTarget[] Targets()
    {
        var targets = new List<EdgeTarget>();
        for (int l = 0; l < Layers; l++)
            foreach (int p in new[] { 1, 3, Last })
                targets.Add(EdgeTarget.FeatureInput(l, p, (7 * l + p) % Splices[l].Transcoder.DSae));
        targets.Add(EdgeTarget.Logit(Last, 3));
        targets.Add(EdgeTarget.DemeanedLogit(Last, 3));
        targets.Add(EdgeTarget.Logit(2, 5));
        targets.Add(EdgeTarget.DemeanedLogit(2, 11));
        return [.. targets];
    }
}
