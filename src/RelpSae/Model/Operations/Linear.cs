using RelpSae.Formats;
using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// A linear map y = x·W + b of a checkpoint, whichever way it stores W: nn.Linear keeps W [out, in] (y = x·Wᵀ),
/// GPT-2's Conv1D keeps it [in, out]. W is packed for the GEMM on first use, once for the forward product and
/// once for the backward product dy·Wᵀ: one copy each in the order the micro-kernel reads, instead of a repack
/// of the matrix on every call. Both layouts pack to the same panels, so their products are the same sums.
/// </summary>
public sealed class Linear
{
    private readonly bool storedInOut;
    private PackedMatrix? forward, backward;

    /// <summary>An nn.Linear: <paramref name="weight"/> [outputs × inputs].</summary>
    public Linear(float[] weight, float[]? bias, int inputs, int outputs) : this(weight, bias, inputs, outputs, storedInOut: false) { }

    private Linear(float[] weight, float[]? bias, int inputs, int outputs, bool storedInOut)
    {
        Weight = weight;
        Bias = bias;
        Inputs = inputs;
        Outputs = outputs;
        this.storedInOut = storedInOut;
    }

    /// <summary>An nn.Linear taken from a checkpoint: <paramref name="name"/>.weight [outputs × inputs] and, with <paramref name="bias"/>, .bias; <paramref name="config"/> names what implies the shapes.</summary>
    public static Linear Take(CheckpointTensors tensors, string name, string config, int outputs, int inputs, bool bias = true) =>
        new(tensors.Take(name + ".weight", config, outputs, inputs), bias ? tensors.Take(name + ".bias", config, outputs) : null, inputs, outputs);

    /// <summary>A Conv1D (GPT-2): <paramref name="weight"/> [inputs × outputs].</summary>
    public static Linear Conv1D(float[] weight, float[] bias, int inputs, int outputs) => new(weight, bias, inputs, outputs, storedInOut: true);

    /// <summary>W as the checkpoint stores it: [out, in] (nn.Linear) or [in, out] (Conv1D).</summary>
    public float[] Weight { get; }
    public float[]? Bias { get; }
    public int Inputs { get; }
    public int Outputs { get; }

    /// <summary>op(B) = W [in × out] of the forward product.</summary>
    private PackedMatrix Forward => forward ??= new PackedMatrix(storedInOut ? Matrix.Of(Weight, Inputs, Outputs) : Matrix.Of(Weight, Outputs, Inputs).T);

    /// <summary>op(B) = Wᵀ [out × in] of the backward product.</summary>
    private PackedMatrix Backward => backward ??= new PackedMatrix(storedInOut ? Matrix.Of(Weight, Inputs, Outputs).T : Matrix.Of(Weight, Outputs, Inputs));

    /// <summary>
    /// y[rows × out] = x·W + b, y rows <paramref name="ldy"/> apart (a column slice of a wider buffer),
    /// x rows <paramref name="ldx"/> apart (0: packed, <see cref="Inputs"/>). The bias is added as the product is stored.
    /// </summary>
    public void Apply(ReadOnlySpan<float> x, int rows, Span<float> y, int ldy, int ldx = 0)
    {
        if (ldx == 0) ldx = Inputs;
        var input = Matrix.Of(x, rows, Inputs, ldx);
        var output = Matrix.Into(y, rows, Outputs, ldy);
        if (Bias is null) Gemm.Multiply(input, Forward, output);
        else Gemm.MultiplyAddBias(input, Forward, Bias, output);
    }

    /// <summary>
    /// y = x·W + b on <paramref name="rows"/> of x [· × in] into the same rows of y [· × out]: every row at once, or the
    /// selected ones gathered, multiplied and scattered (through buffers from <paramref name="pool"/>).
    /// </summary>
    internal void Apply(float[] x, RowSet rows, float[] y, FloatPool pool)
    {
        if (rows.IsAll)
        {
            Apply(x, rows.Count, y, Outputs);
            return;
        }
        var a = pool.Rent(rows.Count * Inputs);
        var product = pool.Rent(rows.Count * Outputs);
        Apply(rows.Gather(x, Inputs, a), rows.Count, product, Outputs);
        rows.Scatter(product, Outputs, y);
        pool.Return(a);
        pool.Return(product);
    }

    /// <summary>
    /// dx[· × in] = dy·Wᵀ where dy is non-zero on <paramref name="rows"/> alone, given packed (<see cref="RowSet"/>):
    /// every row at once, or the selected rows multiplied and scattered into a cleared dx (through a buffer from <paramref name="pool"/>).
    /// </summary>
    internal void Transpose(float[] dyPacked, RowSet rows, float[] dx, FloatPool pool)
    {
        if (rows.IsAll)
        {
            Transpose(dyPacked, Outputs, rows.Count, dx, accumulate: false);
            return;
        }
        var product = pool.Rent(rows.Count * Inputs);
        Transpose(dyPacked, Outputs, rows.Count, product, accumulate: false);
        Array.Clear(dx);
        rows.Scatter(product, Inputs, dx);
        pool.Return(product);
    }

    /// <summary>After <see cref="Weight"/> or <see cref="Bias"/> was changed in place: the packed copies are made again on next use.</summary>
    internal void WeightsChanged() => forward = backward = null;

    /// <summary>dx[rows × in] (+)= dy·Wᵀ, dy rows <paramref name="lddy"/> apart.</summary>
    public void Transpose(ReadOnlySpan<float> dy, int lddy, int rows, Span<float> dx, bool accumulate) =>
        Gemm.Multiply(Matrix.Of(dy, rows, Outputs, lddy), Backward, Matrix.Into(dx, rows, Inputs), accumulate);
}
