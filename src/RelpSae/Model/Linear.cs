using RelpSae.Numerics;

namespace RelpSae.Model;

/// <summary>
/// A Hugging Face nn.Linear: y = x·Wᵀ + b with W stored [out, in] (as checkpoints hold it). W is packed
/// for the GEMM on first use, once for x·Wᵀ and once for the backward product dy·W.
/// </summary>
public sealed class Linear(float[] weight, float[]? bias, int inputs, int outputs)
{
    public float[] Weight { get; } = weight;
    public float[]? Bias { get; } = bias;
    public int Inputs { get; } = inputs;
    public int Outputs { get; } = outputs;

    private PackedMatrix? forward, backward;

    private PackedMatrix Forward => forward ??= new PackedMatrix(Matrix.Of(Weight, Outputs, Inputs).T);
    private PackedMatrix Backward => backward ??= new PackedMatrix(Matrix.Of(Weight, Outputs, Inputs));

    /// <summary>
    /// y[rows × out] = x·Wᵀ + b, y rows <paramref name="ldy"/> apart (a column slice of a wider buffer),
    /// x rows <paramref name="ldx"/> apart (0: packed, <see cref="Inputs"/>).
    /// </summary>
    public void Apply(ReadOnlySpan<float> x, int rows, Span<float> y, int ldy, int ldx = 0)
    {
        if (ldx == 0) ldx = Inputs;
        if (Bias is null)
        {
            Gemm.Multiply(Matrix.Of(x, rows, Inputs, ldx), Forward, Matrix.Into(y, rows, Outputs, ldy));
            return;
        }
        for (int r = 0; r < rows; r++) Bias.CopyTo(y.Slice(r * ldy, Outputs));
        Gemm.Multiply(Matrix.Of(x, rows, Inputs, ldx), Forward, Matrix.Into(y, rows, Outputs, ldy), accumulate: true);
    }

    /// <summary>dx[rows × in] (+)= dy·W, dy rows <paramref name="lddy"/> apart.</summary>
    public void Transpose(ReadOnlySpan<float> dy, int lddy, int rows, Span<float> dx, bool accumulate) =>
        Gemm.Multiply(Matrix.Of(dy, rows, Outputs, lddy), Backward, Matrix.Into(dx, rows, Inputs), accumulate);
}
