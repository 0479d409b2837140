using System.Numerics.Tensors;
using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Attribution;

/// <summary>
/// The model after block <c>layer</c>'s MLP, fed that MLP's output a [batch × tokens × d] (a transcoder's splice): the
/// block's residual stream after it is the clean prompt's with the MLP's clean contribution replaced,
/// resid_post = <c>rest</c> + a where rest = resid_post − hook_mlp_out of the clean pass, and the blocks after run from
/// there (<see cref="TransformerDownstream"/>); the gradient at the MLP's output is then resid_post's. With
/// <c>postNorm</c> (Gemma's post-feedforward RMSNorm, for a splice at mlp.hook_out) a passes it first,
/// resid_post = rest + RMSNorm(a)⊙γ, and the gradient goes back through it as through the family's other norms: exactly,
/// or with the scale frozen under the LN-rule (<see cref="RmsNormRule"/>).
/// </summary>
public sealed class MlpOutputDownstream(ITransformer model, int layer, float[] rest, (float[] Gamma, float Eps)? postNorm = null) : IDownstream
{
    private readonly TransformerDownstream after = new(model, new HookPoint(HookKind.ResidPost, layer));

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
}
