using RelpSae.Model;
using RelpSae.Sae;

namespace RelpSae.Attribution;

/// <summary>
/// Several SAEs spliced into the model at once for one prompt: at each SAE's hook the clean activation
/// splits into features and an error node (<see cref="SaeSplice"/>), so the model still computes
/// decode(f) + ε = x at every hook and its output is unchanged. The activations of all hooks come
/// from one forward pass of the prompt (and one of the corrupted prompt).
/// </summary>
public sealed class MultiSaeSplice
{
    private MultiSaeSplice(int[] tokens, IReadOnlyList<HookedSae> saes, IReadOnlyList<SaeSplice> splices)
    {
        Tokens = tokens; Saes = saes; Splices = splices;
    }

    public int[] Tokens { get; }
    public IReadOnlyList<HookedSae> Saes { get; }
    /// <summary>One splice per SAE, in the SAEs' order (along the residual stream).</summary>
    public IReadOnlyList<SaeSplice> Splices { get; }

    /// <summary>
    /// Splits every hook's activation. <paramref name="featureMeans"/> holds each SAE's feature means
    /// (in the SAEs' order) for a mean baseline; a corrupt baseline's prompt is run once for all hooks.
    /// </summary>
    public static MultiSaeSplice Create(ITransformer model, IReadOnlyList<HookedSae> saes, int[] tokens, Baseline baseline,
        IReadOnlyList<float[]>? featureMeans = null)
    {
        var hooks = saes.Select(s => s.Hook).ToArray();
        var clean = Activations(model, tokens, hooks);
        Dictionary<HookPoint, float[]>? corrupt = null;
        if (baseline.Kind == BaselineKind.Corrupt)
        {
            var ids = baseline.CorruptTokens ?? throw new ArgumentException("a corrupt baseline needs its tokens");
            CorruptedPrompt.CheckLength(tokens, ids);
            corrupt = Activations(model, ids, hooks);
        }
        if (baseline.Kind == BaselineKind.Mean && featureMeans?.Count != saes.Count)
            throw new RelpSaeException("the mean baseline needs feature means beside every SAE (feature_means.safetensors, written by SaeModelEvaluation)");
        var splices = saes.Select((s, i) => SaeSplice.FromActivations(new TransformerDownstream(model, s.Hook), s.Sae, clean[s.Hook],
            baseline.Kind == BaselineKind.Mean ? Baseline.Mean(featureMeans![i]) : baseline, corrupt?[s.Hook])).ToList();
        return new MultiSaeSplice(tokens, saes, splices);
    }

    private static Dictionary<HookPoint, float[]> Activations(ITransformer model, int[] tokens, HookPoint[] hooks)
    {
        using var run = model.Forward(tokens, 1, new RunOptions { Cache = hooks, Logits = LogitRows.None });
        return hooks.ToDictionary(h => h, run.Cached);
    }
}
