using System.Diagnostics;
using RelpSae.Model;

namespace RelpSae.Attribution;

/// <summary>One method's scores of every SAE's features and error node, one result per hook, and what they cost.</summary>
public sealed record NodeScores(string Method, IReadOnlyList<AttributionResult> Hooks, double Seconds);

/// <summary>
/// Node scores at every spliced hook (Marks et al., "Sparse Feature Circuits"). The spliced error nodes
/// pass the gradient through unchanged, so the coefficient at each hook is the model's own (exact or
/// rule-modified) and one backward pass of the clean prompt records it at every hook at once: gradient
/// and the RelP presets cost one forward and one backward pass for all hooks. Integrated gradients
/// moves one hook's activation at a time along its path, the rest of the model clean (as Marks et al.
/// do): hooks × ⌈steps / chunk⌉ batched forward and backward passes from each hook on.
/// </summary>
public static class NodeAttribution
{
    public static NodeScores Run(IAttributionMethod method, ITransformer model, MultiSaeSplice splices, Metric metric)
    {
        var clock = Stopwatch.StartNew();
        var gradients = method is GradientMethod
            ? Recorded(model, splices, metric, method)
            : splices.Splices.Select(s => method.HookGradient(s, metric)).ToArray();
        var results = splices.Splices.Select((s, i) => Attributor.Score(method, s, gradients[i], 0)).ToList();
        return new NodeScores(method.Name, results, clock.Elapsed.TotalSeconds);
    }

    private static float[][] Recorded(ITransformer model, MultiSaeSplice splices, Metric metric, IAttributionMethod method)
    {
        using var run = model.Forward(splices.Tokens, 1, new RunOptions { KeepForBackward = true, Logits = LogitRows.None });
        var recorded = run.ComponentBackward([metric], method.Rules);
        return splices.Saes.Select(s => CoefficientAt(recorded, s.Hook)).ToArray();
    }

    /// <summary>The gradient at a residual hook: resid_mid's is attn_out's, resid_post's is mlp_out's.</summary>
    private static float[] CoefficientAt(ComponentGradients g, HookPoint hook) => hook.Kind switch
    {
        HookKind.ResidMid => g.At(new HookPoint(HookKind.AttnOut, hook.Layer)),
        HookKind.ResidPost => g.At(new HookPoint(HookKind.MlpOut, hook.Layer)),
        _ => g.At(hook),
    };
}
