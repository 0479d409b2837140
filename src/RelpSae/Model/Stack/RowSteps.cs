using System.Numerics.Tensors;
using RelpSae.Lrp;

namespace RelpSae.Model;

/// <summary>
/// The row-wise steps of a block over a <see cref="RowSet"/>: norms, activations, products and residual adds.
/// Forward steps read and write rows where they lie. Backward steps read the kept activations where they lie
/// (row r) and the gradients packed (row i for the set's i-th row), as the backward's products leave them.
/// </summary>
internal static class RowSteps
{
    public delegate void Unary(ReadOnlySpan<float> u, Span<float> y);
    public delegate void Binary(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> y);

    /// <summary>y = f(u), <paramref name="width"/> values a row (an activation).</summary>
    public static void Map(RowSet rows, int width, float[] u, float[] y, Unary f) =>
        rows.For(width, (r, _, k) => f(u.AsSpan(r * width, k * width), y.AsSpan(r * width, k * width)));

    /// <summary>y = f(a, b), <paramref name="width"/> values a row (a gated product).</summary>
    public static void Map(RowSet rows, int width, float[] a, float[] b, float[] y, Binary f) =>
        rows.For(width, (r, _, k) => f(a.AsSpan(r * width, k * width), b.AsSpan(r * width, k * width), y.AsSpan(r * width, k * width)));

    /// <summary>The residual add x += y.</summary>
    public static void Add(RowSet rows, int width, float[] x, float[] y) =>
        rows.For(width, (r, _, k) => TensorPrimitives.Add(x.AsSpan(r * width, k * width), y.AsSpan(r * width, k * width), x.AsSpan(r * width, k * width)));

    /// <summary><see cref="Model.LayerNorm.Forward"/> of the rows, keeping x̂ and 1/σ.</summary>
    public static void LayerNorm(RowSet rows, float[] x, float[] xhat, float[] rstd, float[] y, float[] gamma, float[] beta, float eps)
    {
        int d = gamma.Length;
        rows.For(d, (r, _, k) => Model.LayerNorm.Forward(x.AsSpan(r * d, k * d), xhat.AsSpan(r * d, k * d), rstd.AsSpan(r, k), y.AsSpan(r * d, k * d), gamma, beta, k, eps));
    }

    /// <summary><see cref="Model.RmsNorm.Forward"/> of the rows, keeping x̂ and 1/rms.</summary>
    public static void RmsNorm(RowSet rows, float[] x, float[] xhat, float[] rstd, float[] y, float[] gamma, float eps)
    {
        int d = gamma.Length;
        rows.For(d, (r, _, k) => Model.RmsNorm.Forward(x.AsSpan(r * d, k * d), xhat.AsSpan(r * d, k * d), rstd.AsSpan(r, k), y.AsSpan(r * d, k * d), gamma, k, eps));
    }

    /// <summary>A norm's output y = x̂⊙γ (+ β) formed again from x̂, as <see cref="Model.LayerNorm.Forward"/> and <see cref="Model.RmsNorm.Forward"/> form it (bit for bit).</summary>
    public static void Rescale(RowSet rows, float[] xhat, float[] y, float[] gamma, float[]? beta)
    {
        int d = gamma.Length;
        rows.For(d, (r, _, k) =>
        {
            for (int j = r; j < r + k; j++)
            {
                if (beta is null) TensorPrimitives.Multiply(xhat.AsSpan(j * d, d), gamma, y.AsSpan(j * d, d));
                else TensorPrimitives.FusedMultiplyAdd(xhat.AsSpan(j * d, d), gamma, beta, y.AsSpan(j * d, d));
            }
        });
    }

    /// <summary>du = the activation's backward (exact or a rule) of packed g, from the kept u and post.</summary>
    public static void ActivationBackward(RowSet rows, int width, float[] u, float[] post, float[] g, float[] du, ElementwiseBackward backward) =>
        rows.For(width, (r, i, k) => backward(u.AsSpan(r * width, k * width), post.AsSpan(r * width, k * width), g.AsSpan(i * width, k * width), du.AsSpan(i * width, k * width)));

    /// <summary>da, db = the gated product's backward (product rule or Half-rule) of packed dh, from the kept factors a and b.</summary>
    public static void ProductBackward(RowSet rows, int width, float[] a, float[] b, float[] dh, float[] da, float[] db, ProductBackward backward) =>
        rows.For(width, (r, i, k) => backward(a.AsSpan(r * width, k * width), b.AsSpan(r * width, k * width), dh.AsSpan(i * width, k * width),
            da.AsSpan(i * width, k * width), db.AsSpan(i * width, k * width)));

    /// <summary>dx (rows where they lie) += the norm's backward (exact or a rule) of packed g, from the kept x̂ and scale.</summary>
    public static void NormBackward(RowSet rows, NormBackward norm, float[] g, float[] xhat, float[] rstd, float[] gamma, float[] dx) =>
        NormBackward(rows, norm, g, xhat, rstd, gamma, dx, packedOutput: false);

    /// <summary>As <see cref="NormBackward(RowSet, NormBackward, float[], float[], float[], float[], float[])"/>, into packed rows of dx.</summary>
    public static void NormBackwardPacked(RowSet rows, NormBackward norm, float[] g, float[] xhat, float[] rstd, float[] gamma, float[] dx) =>
        NormBackward(rows, norm, g, xhat, rstd, gamma, dx, packedOutput: true);

    private static void NormBackward(RowSet rows, NormBackward norm, float[] g, float[] xhat, float[] rstd, float[] gamma, float[] dx, bool packedOutput)
    {
        int d = gamma.Length;
        rows.For(d, (r0, i0, k) =>
        {
            Span<float> scratch = stackalloc float[d];
            for (int j = 0; j < k; j++)
            {
                int r = r0 + j, i = i0 + j, o = packedOutput ? i : r;
                norm(g.AsSpan(i * d, d), xhat.AsSpan(r * d, d), rstd[r], gamma, dx.AsSpan(o * d, d), scratch);
            }
        });
    }
}
