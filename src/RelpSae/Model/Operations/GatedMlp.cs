using RelpSae.Lrp;
using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// A gated MLP (SwiGLU, GeGLU: the Llama family, Gemma-2): h = act(a·W_gateᵀ) ⊙ a·W_upᵀ, out = h·W_downᵀ, on the
/// rows of a <see cref="RowSet"/>; and its backward from out to a, through the product and the activation as the
/// pass's <see cref="BackwardFunctions"/> resolved them (product rule or Half-rule, exact or Identity-rule).
/// </summary>
internal sealed class GatedMlp(Linear gate, Linear up, Linear down, RowSteps.Unary activation)
{
    /// <summary>What the forward keeps for the backward [rows × d_mlp]: the gate, act(gate), up and their product h.</summary>
    public sealed record Activations(float[] Gate, float[] Act, float[] Up, float[] Hidden);

    /// <summary>A backward pass's buffers [rows × d_mlp], packed as <see cref="RowSet"/> says.</summary>
    public sealed record Gradients(float[] DHidden, float[] DAct, float[] DUp, float[] DGate);

    private int Width => gate.Outputs;

    /// <summary>h (hook mlp.hook_post) from the normed rows.</summary>
    public void Hidden(float[] normed, RowSet rows, Activations s, FloatPool pool)
    {
        gate.Apply(normed, rows, s.Gate, pool);
        up.Apply(normed, rows, s.Up, pool);
        RowSteps.Map(rows, Width, s.Gate, s.Act, activation);
        RowSteps.Map(rows, Width, s.Act, s.Up, s.Hidden, GatedProduct.Forward);
    }

    /// <summary>out = h·W_downᵀ.</summary>
    public void Output(RowSet rows, Activations s, float[] output, FloatPool pool) => down.Apply(s.Hidden, rows, output, pool);

    /// <summary>dnormed (packed) = the path of the packed gradient at the output <paramref name="dOut"/> back to the normed rows.</summary>
    public void Backward(float[] dOut, RowSet rows, Activations s, BackwardFunctions f, Gradients g, float[] dnormed)
    {
        int k = rows.Count;
        down.Transpose(dOut, down.Outputs, k, g.DHidden, accumulate: false);
        RowSteps.ProductBackward(rows, Width, s.Act, s.Up, g.DHidden, g.DAct, g.DUp, f.Product!);
        RowSteps.ActivationBackward(rows, Width, s.Gate, s.Act, g.DAct, g.DGate, f.Activation);
        gate.Transpose(g.DGate, Width, k, dnormed, accumulate: false);
        up.Transpose(g.DUp, Width, k, dnormed, accumulate: true);
    }
}
