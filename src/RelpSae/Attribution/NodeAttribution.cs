using System.Diagnostics;
using RelpSae.Model;

namespace RelpSae.Attribution;

/// <summary>One method's scores of every SAE's features and error node, one result per hook, and what they cost.</summary>
public sealed record NodeScores(string Method, IReadOnlyList<AttributionResult> Hooks, double Seconds);

/// <summary>
/// Node scores at every spliced site (Marks et al., "Sparse Feature Circuits"). The spliced error nodes
/// pass the gradient through unchanged, so the coefficient at each site is the model's own (exact or
/// rule-modified) and one backward pass of the clean prompt records it at every residual hook, attention
/// output and MLP output at once: gradient and the RelP presets cost one forward and one backward pass for
/// all sites (a transcoder writing Gemma's mlp.hook_out, before the post-feedforward norm, takes its own).
/// Integrated gradients moves one site's activation at a time along its path, the rest of the model clean
/// (as Marks et al. do): sites × ⌈steps / chunk⌉ batched forward and backward passes from each site on.
/// </summary>
public static class NodeAttribution
{
    public static NodeScores Run(IAttributionMethod method, ITransformer model, MultiSaeSplice splices, Metric metric)
    {
        var clock = Stopwatch.StartNew();
        var recorded = method is GradientMethod ? Recorded(model, splices, metric, method) : null;
        var results = splices.Splices.Select((s, i) => Attributor.Score(method, s, recorded?[i] ?? method.HookGradient(s, metric), 0)).ToList();
        return new NodeScores(method.Name, results, clock.Elapsed.TotalSeconds);
    }

    private static float[]?[] Recorded(ITransformer model, MultiSaeSplice splices, Metric metric, IAttributionMethod method)
    {
        using var run = model.Forward(splices.Tokens, 1, new RunOptions { KeepForBackward = true, Logits = LogitRows.None, Rewrite = splices.Interventions });
        var recorded = run.ComponentBackward([metric], method.Rules);
        return splices.Saes.Select(s => CoefficientAt(model, recorded, s.Hook)).ToArray();
    }

    /// <summary>
    /// The gradient at a site: resid_mid's is attn_out's, resid_post's is mlp_out's, and mlp.hook_out's too unless a
    /// post-feedforward norm lies between them (null: not recorded).
    /// </summary>
    private static float[]? CoefficientAt(ITransformer model, ComponentGradients g, HookPoint hook) => hook.Kind switch
    {
        HookKind.ResidMid => g.At(new HookPoint(HookKind.AttnOut, hook.Layer)),
        HookKind.ResidPost => g.At(new HookPoint(HookKind.MlpOut, hook.Layer)),
        HookKind.MlpHookOut => model is IMlpPostNorm ? null : g.At(new HookPoint(HookKind.MlpOut, hook.Layer)),
        _ => g.At(hook),
    };
}
