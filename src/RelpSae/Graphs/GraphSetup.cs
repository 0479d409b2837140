using System.Numerics.Tensors;
using RelpSae.Attribution;
using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Graphs;

/// <summary>
/// A prompt's replacement model, ready for attribution: every transcoder spliced in place of its MLP (or every
/// residual-stream SAE at its block's hook_resid_post: <see cref="GraphDictionaries"/>) from one forward pass, the
/// active features (by layer, position, index), the error nodes, the token embeddings and the salient logits, with the
/// vectors their edges are made of (a_s·W_dec[s], ε, the embedding row; the logits' demeaned directions).
/// As circuit-tracer does, when the prompt starts with the model's BOS token its features and error nodes at position 0
/// are left out (their value stays in the bias of the nodes they reach): they are the same for every prompt.
/// </summary>
public sealed class GraphSetup
{
    private GraphSetup() { }

    public required ITransformer Model { get; init; }
    public required IReadOnlyList<HookedTranscoder> Set { get; init; }
    public required int[] Tokens { get; init; }
    public required GraphOptions Options { get; init; }
    /// <summary>Active features: layer, position, index and activation, sorted by (layer, position, index).</summary>
    public required int[] FeatureLayer { get; init; }
    public required int[] FeaturePosition { get; init; }
    public required int[] FeatureIndex { get; init; }
    public required float[] FeatureActivation { get; init; }
    /// <summary>Where each (layer, position)'s features begin in the lists above: [layers·tokens + 1].</summary>
    public required int[] BlockStart { get; init; }
    /// <summary>a_s·W_dec[s] of each active feature [features × d].</summary>
    public required float[] ScaledDecoders { get; init; }
    /// <summary>ε of each (layer, position) [layers × tokens × d].</summary>
    public required float[] Errors { get; init; }
    /// <summary>The activation at hook_embed [tokens × d].</summary>
    public required float[] Embeddings { get; init; }
    public required SalientLogits Logits { get; init; }
    /// <summary>Each logit's demeaned value, h·(u − ū) with h the final norm's output at the last position.</summary>
    public required double[] LogitInputs { get; init; }

    public int Layers => Model.Facts.NLayers;

    /// <summary>Whether the features are residual-stream SAEs' (edges pass through the MLPs) rather than transcoders'.</summary>
    public bool ResidualSaes => GraphDictionaries.AreResidualSaes(Set);
    public int ActiveFeatures => FeatureIndex.Length;

    /// <summary>Feature nodes the graph will keep: every active feature, or <see cref="GraphOptions.MaxFeatureNodes"/>.</summary>
    public int KeptFeatures => Math.Min(Options.MaxFeatureNodes ?? ActiveFeatures, ActiveFeatures);

    /// <summary>The backward passes' targets: the logits and the kept features.</summary>
    public int Targets => Logits.Tokens.Length + KeptFeatures;

    public static GraphSetup Create(ITransformer model, IReadOnlyList<HookedTranscoder> set, int[] tokens, GraphOptions options)
    {
        var facts = model.Facts;
        int L = facts.NLayers, T = tokens.Length, d = facts.DModel;
        if (T == 0) throw new RelpSaeException("the prompt has no tokens");
        if (options.MaxFeatureNodes is < 0) throw new RelpSaeException($"the feature-node limit must not be negative, got {options.MaxFeatureNodes}");
        bool residual = GraphDictionaries.AreResidualSaes(set);
        if (set.FirstOrDefault(t => (t.Input == t.Output) != residual) is { } other)
            throw new RelpSaeException($"{other.Source}: an attribution graph is over transcoders or over residual-stream SAEs, not both ({set[0].Source} is {(residual ? "an SAE" : "a transcoder")})");
        for (int l = 0; l < L; l++)
            if (!set.Any(t => t.Layer == l))
                throw new RelpSaeException(residual
                    ? $"an attribution graph over residual-stream SAEs needs one at every block's hook_resid_post: block {l} has none ({set.Count} of {L} given)"
                    : $"an attribution graph needs a transcoder for every MLP: block {l} has none ({set.Count} of {L} given)");
        foreach (var t in set)
            if (t.Output.Kind == HookKind.MlpHookOut && model is IMlpPostNorm)
                throw new RelpSaeException($"{t.Source}: writes {t.Output}, before this model's post-MLP norm; an attribution graph needs transcoders that write hook_mlp_out");

        var splices = TranscoderSplice.All(model, set, tokens);
        bool zeroBos = tokens[0] == facts.BosTokenId;
        var (layer, position, index, activation) = (new List<int>(), new List<int>(), new List<int>(), new List<float>());
        var blockStart = new int[L * T + 1];
        var errors = new float[(long)L * T * d];
        for (int l = 0; l < L; l++)
        {
            var splice = splices[l];
            int dSae = splice.Transcoder.DSae;
            splice.Error.AsSpan(0, T * d).CopyTo(errors.AsSpan(l * T * d));
            if (zeroBos) errors.AsSpan(l * T * d, d).Clear();
            for (int p = 0; p < T; p++)
            {
                blockStart[l * T + p] = index.Count;
                if (zeroBos && p == 0) continue;
                var f = splice.Features.AsSpan(p * dSae, dSae);
                for (int i = 0; i < dSae; i++)
                    if (f[i] != 0) { layer.Add(l); position.Add(p); index.Add(i); activation.Add(f[i]); }
            }
        }
        blockStart[L * T] = index.Count;
        int kept = Math.Min(options.MaxFeatureNodes ?? index.Count, index.Count), others = L * T + T + options.MaxLogits;
        GraphMemory.Check(kept + others, index.Count + others, kept + options.MaxLogits, AvailableMemory.Bytes());
        var decoders = new float[(long)index.Count * d];
        for (int k = 0; k < index.Count; k++)
            TensorPrimitives.Multiply(set[layer[k]].Transcoder.Dictionary.WDec.AsSpan(index[k] * d, d), activation[k], decoders.AsSpan(k * d, d));

        var embed = new HookPoint(HookKind.Embed, -1);
        using var run = model.Forward(tokens, 1, new RunOptions { Cache = [embed], Logits = LogitRows.Last });
        var logits = SalientLogits.Select(model, run.Logits.AsSpan(0, facts.VocabSize), options.MaxLogits, options.DesiredLogitProbability);
        var last = run.Final.AsSpan((T - 1) * d, d).ToArray();
        return new GraphSetup
        {
            Model = model, Set = set, Tokens = tokens, Options = options,
            FeatureLayer = [.. layer], FeaturePosition = [.. position], FeatureIndex = [.. index], FeatureActivation = [.. activation],
            BlockStart = blockStart, ScaledDecoders = decoders, Errors = errors, Embeddings = run.Cached(embed),
            Logits = logits, LogitInputs = [.. logits.Directions.Select(u => (double)TensorPrimitives.Dot(last, u))],
        };
    }
}
