using System.Numerics.Tensors;
using RelpSae.Lrp;
using RelpSae.Model;

namespace RelpSae.Attribution;

/// <summary>
/// The model after block <c>layer</c>'s MLP, fed that MLP's output a [batch × tokens × d] (a transcoder's splice): the
/// block's residual stream after it is the clean prompt's with the MLP's clean output replaced,
/// resid_post = <c>rest</c> + a where rest = resid_post − y of the clean pass, and the blocks after run from there
/// (<see cref="TransformerDownstream"/>). The MLP's output is added into resid_post, so the gradient at it is resid_post's.
/// </summary>
public sealed class MlpOutputDownstream(ITransformer model, int layer, float[] rest) : IDownstream
{
    private readonly TransformerDownstream after = new(model, new HookPoint(HookKind.ResidPost, layer));

    public double[] Metric(float[] activations, int batch, int tokens, Metric metric) =>
        after.Metric(Residual(activations, batch), batch, tokens, metric);

    public double[] Metric(float[] activations, int batch, int tokens, Metric metric, float[] clean, int firstChanged) =>
        after.Metric(Residual(activations, batch), batch, tokens, metric, Residual(clean, 1), firstChanged);

    public float[] Backward(float[] activations, int batch, int tokens, Metric metric, PropagationRules rules) =>
        after.Backward(Residual(activations, batch), batch, tokens, metric, rules);

    /// <summary>rest + a for each of the batch's sequences.</summary>
    private float[] Residual(float[] activations, int batch)
    {
        if (activations.Length != batch * rest.Length)
            throw new ArgumentException($"{activations.Length} values for {batch} sequences of {rest.Length}", nameof(activations));
        var residual = new float[activations.Length];
        for (int b = 0; b < batch; b++)
            TensorPrimitives.Add(activations.AsSpan(b * rest.Length, rest.Length), rest, residual.AsSpan(b * rest.Length, rest.Length));
        return residual;
    }
}
