using System.Numerics.Tensors;

namespace RelpSae.Model;

/// <summary>
/// The gated MLP's element-wise product h = act(gate) ⊙ up (SwiGLU, GeGLU). Its backward splits dh
/// between the two factors: the exact product rule here (an <see cref="Lrp.ProductBackward"/>), or the Half-rule
/// (<see cref="Lrp.HalfRule"/>).
/// </summary>
public static class GatedProduct
{
    public static void Forward(ReadOnlySpan<float> a, ReadOnlySpan<float> b, Span<float> h) => TensorPrimitives.Multiply(a, b, h);

    /// <summary>The product rule: da = dh·b, db = dh·a (each factor gets the whole product).</summary>
    public static void Gradient(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> dh, Span<float> da, Span<float> db)
    {
        TensorPrimitives.Multiply(dh, b, da);
        TensorPrimitives.Multiply(dh, a, db);
    }
}
