using RelpSae.Formats;
using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// A linear map y = x·W + b of a checkpoint, whichever way it stores W: nn.Linear keeps W [out, in] (y = x·Wᵀ),
/// GPT-2's Conv1D keeps it [in, out]. W is held once, packed for the forward product's micro-kernel (both layouts
/// pack to the same panels, so their products are the same sums), in 16 bits when the checkpoint's weights are
/// (<see cref="PanelElement"/>). The backward product dy·Wᵀ reads the same panels (transposed a block at a time, or
/// where they lie as (dy·Wᵀ)ᵀ = W·dyᵀ is formed), and a row of W (an embedding's token vector, an unembedding's logit
/// direction) is read back from them.
/// </summary>
public sealed class Linear
{
    /// <summary>op(B) = W as [in × out], the forward product's right operand.</summary>
    private readonly PackedMatrix weight;

    /// <summary>An nn.Linear: <paramref name="weight"/> [outputs × inputs], held as <paramref name="held"/>.</summary>
    public Linear(float[] weight, float[]? bias, int inputs, int outputs, PanelElement held = PanelElement.Float32)
        : this(new PackedMatrix(Matrix.Of(weight, outputs, inputs).T, held), bias) { }

    private Linear(PackedMatrix weight, float[]? bias)
    {
        this.weight = weight;
        Bias = bias;
    }

    /// <summary>An nn.Linear taken from a checkpoint: <paramref name="name"/>.weight [outputs × inputs] and, with <paramref name="bias"/>, .bias; <paramref name="config"/> names what implies the shapes.</summary>
    public static Linear Take(CheckpointTensors tensors, string name, string config, int outputs, int inputs, bool bias = true) =>
        new(tensors.TakePacked(name + ".weight", config, outputs, inputs, transposed: true), bias ? tensors.Take(name + ".bias", config, outputs) : null);

    /// <summary>
    /// The output head [V × d]: <paramref name="embedding"/> itself when <paramref name="tied"/> (a copy the checkpoint keeps
    /// under <paramref name="name"/> is checked and left unread), else <paramref name="name"/>, which an untied model must store.
    /// </summary>
    public static Linear Head(CheckpointTensors tensors, string name, Linear embedding, bool tied, string config)
    {
        if (!tied) return Take(tensors, name, config, embedding.Outputs, embedding.Inputs, bias: false);
        if (tensors.Contains(name + ".weight")) tensors.Skip(name + ".weight", config, embedding.Outputs, embedding.Inputs);
        return embedding;
    }

    /// <summary>
    /// A Conv1D taken from a checkpoint: <paramref name="name"/>.weight [inputs × outputs], packed as it is stored (op(B) = W,
    /// no transpose), and .bias [outputs]; <paramref name="config"/> names what implies the shapes.
    /// </summary>
    public static Linear TakeConv1D(CheckpointTensors tensors, string name, string config, int inputs, int outputs) =>
        new(tensors.TakePacked(name + ".weight", config, inputs, outputs, transposed: false), tensors.Take(name + ".bias", config, outputs));

    /// <summary>A Conv1D (GPT-2): <paramref name="weight"/> [inputs × outputs], held as <paramref name="held"/>.</summary>
    public static Linear Conv1D(float[] weight, float[] bias, int inputs, int outputs, PanelElement held = PanelElement.Float32) =>
        new(new PackedMatrix(Matrix.Of(weight, inputs, outputs), held), bias);

    public float[]? Bias { get; }
    public int Inputs => weight.Rows;
    public int Outputs => weight.Cols;
    /// <summary>What the weights are held as.</summary>
    public PanelElement Element => weight.Element;
    /// <summary>Bytes the weights hold (packed, padding included), the bias aside.</summary>
    public long WeightBytes => weight.Bytes;

    /// <summary>Row <paramref name="output"/> of W [out, in] (nn.Linear's layout): the weights into that output, widened.</summary>
    public void Row(int output, Span<float> into) => weight.Column(output, into);

    /// <summary>W as [in × out] (Conv1D's layout), widened.</summary>
    public float[] InOut() => weight.ToArray();

    /// <summary>W as [out × in] (nn.Linear's layout), widened.</summary>
    public float[] OutIn()
    {
        var result = new float[(long)Outputs * Inputs];
        for (int o = 0; o < Outputs; o++) Row(o, result.AsSpan((int)((long)o * Inputs), Inputs));
        return result;
    }

    /// <summary>
    /// y[rows × out] = x·W + b, y rows <paramref name="ldy"/> apart (a column slice of a wider buffer),
    /// x rows <paramref name="ldx"/> apart (0: packed, <see cref="Inputs"/>). The bias is added as the product is stored.
    /// </summary>
    public void Apply(ReadOnlySpan<float> x, int rows, Span<float> y, int ldy, int ldx = 0)
    {
        if (ldx == 0) ldx = Inputs;
        var input = Matrix.Of(x, rows, Inputs, ldx);
        var output = Matrix.Into(y, rows, Outputs, ldy);
        if (Bias is null) Gemm.Multiply(input, weight, output);
        else Gemm.MultiplyAddBias(input, weight, Bias, output);
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

    /// <summary>dx[rows × in] (+)= dy·Wᵀ, dy rows <paramref name="lddy"/> apart.</summary>
    public void Transpose(ReadOnlySpan<float> dy, int lddy, int rows, Span<float> dx, bool accumulate) =>
        Gemm.Multiply(Matrix.Of(dy, rows, Outputs, lddy), weight.T, Matrix.Into(dx, rows, Inputs), accumulate);
}
