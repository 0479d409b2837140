using System.Numerics.Tensors;
using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Attribution;

/// <summary>
/// The model after a branch of block L — its attention or its MLP — fed that branch's output a [batch × tokens × d] (an SAE
/// at hook_attn_out or hook_mlp_out, a transcoder's splice): the residual stream after the branch (<c>residualHook</c>:
/// resid_mid after attention, resid_post after the MLP or after parallel attention) is the clean prompt's with the branch's
/// clean contribution replaced, residual = <c>rest</c> + a where rest = residual − the branch's output in the clean pass,
/// and the blocks after run from there (<see cref="TransformerDownstream"/>); the gradient at the branch's output is then
/// the residual's. With <c>postNorm</c> (Gemma's post-feedforward RMSNorm, for a splice at mlp.hook_out) a passes it first,
/// residual = rest + RMSNorm(a)⊙γ, and the gradient goes back through it as through the family's other norms: exactly,
/// or with the scale frozen under the LN-rule (<see cref="RmsNormRule"/>).
/// </summary>
public sealed class BranchOutputDownstream(ITransformer model, HookPoint residualHook, float[] rest, (float[] Gamma, float Eps)? postNorm = null,
    IActivationRewrite? rewrite = null) : IDownstream
{
    private readonly TransformerDownstream after = new(model, residualHook, rewrite);

    public double[] Metric(float[] activations, int batch, int tokens, Metric metric) =>
        after.Metric(Residual(activations, batch).Residual, batch, tokens, metric);

    public double[] Metric(float[] activations, int batch, int tokens, Metric metric, float[] clean, int firstChanged) =>
        after.Metric(Residual(activations, batch).Residual, batch, tokens, metric, Residual(clean, 1).Residual, firstChanged);

    public float[] Backward(float[] activations, int batch, int tokens, Metric metric, PropagationRules rules)
    {
        var (residual, hat, rstd) = Residual(activations, batch);
        var g = after.Backward(residual, batch, tokens, metric, rules);
        if (postNorm is not { } norm) return g;
        int d = norm.Gamma.Length;
        var da = new float[g.Length];
        var scratch = new float[d];
        NormBackward backward = rules.LayerNorm ? RmsNormRule.Backward : RmsNorm.Gradient;
        for (int r = 0; r < g.Length / d; r++)
            backward(g.AsSpan(r * d, d), hat.AsSpan(r * d, d), rstd[r], norm.Gamma, da.AsSpan(r * d, d), scratch);
        return da;
    }

    /// <summary>rest + a (or its post-norm) for each of the batch's sequences, with the norm's x̂ and 1/rms when there is one.</summary>
    private (float[] Residual, float[] Hat, float[] Rstd) Residual(float[] activations, int batch)
    {
        if (activations.Length != batch * rest.Length)
            throw new ArgumentException($"{activations.Length} values for {batch} sequences of {rest.Length}", nameof(activations));
        var added = activations;
        float[] hat = [], rstd = [];
        if (postNorm is { } norm)
        {
            int d = norm.Gamma.Length, rows = activations.Length / d;
            (added, hat, rstd) = (new float[activations.Length], new float[activations.Length], new float[rows]);
            RmsNorm.Forward(activations, hat, rstd, added, norm.Gamma, rows, norm.Eps);
        }
        var residual = new float[activations.Length];
        for (int b = 0; b < batch; b++)
            TensorPrimitives.Add(added.AsSpan(b * rest.Length, rest.Length), rest, residual.AsSpan(b * rest.Length, rest.Length));
        return (residual, hat, rstd);
    }

    /// <summary>The hooks whose clean activations <see cref="For"/> reads for a splice at <paramref name="site"/>.</summary>
    public static HookPoint[] Needs(ModelFacts facts, HookPoint site) => site.IsResidual ? [site] : [site, ResidualAfter(facts, site), Added(site)];

    /// <summary>
    /// The model after a site a dictionary replaces, from the prompt's clean activations at <see cref="Needs"/>: the blocks
    /// after a residual hook, or after a branch's output (hook_attn_out, hook_mlp_out, mlp.hook_out); with
    /// <paramref name="interventions"/> in force at the hooks after it.
    /// </summary>
    public static IDownstream For(ITransformer model, HookPoint site, Func<HookPoint, float[]> clean, Interventions.FeatureInterventions? interventions = null)
    {
        if (site.IsResidual) return new TransformerDownstream(model, site, interventions?.After(site, model.Facts));
        var residual = ResidualAfter(model.Facts, site);
        var (after, added) = (clean(residual), clean(Added(site)));
        var rest = new float[after.Length];
        TensorPrimitives.Subtract(after, added, rest);
        var postNorm = site.Kind == HookKind.MlpHookOut && model is IMlpPostNorm norms ? norms.MlpPostNorm(site.Layer) : ((float[], float)?)null;
        return new BranchOutputDownstream(model, residual, rest, postNorm, interventions?.After(residual, model.Facts));
    }

    /// <summary>The residual hook a branch's output is added into.</summary>
    private static HookPoint ResidualAfter(ModelFacts facts, HookPoint site) => site.Kind switch
    {
        HookKind.AttnOut => new(facts.ParallelResidual ? HookKind.ResidPost : HookKind.ResidMid, site.Layer),
        HookKind.MlpOut or HookKind.MlpHookOut => new(HookKind.ResidPost, site.Layer),
        _ => throw new ArgumentException($"{site} is neither a residual hook nor a branch's output", nameof(site)),
    };

    /// <summary>The hook holding what the branch adds to the residual stream.</summary>
    private static HookPoint Added(HookPoint site) => new(site.Kind == HookKind.AttnOut ? HookKind.AttnOut : HookKind.MlpOut, site.Layer);
}
