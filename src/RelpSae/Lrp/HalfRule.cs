using System.Numerics.Tensors;

namespace RelpSae.Lrp;

/// <summary>
/// Half-rule on the gated MLP's product h = a ⊙ b (a = act(gate), b = up): each factor gets half of the
/// gradient, da = ½dh·b, db = ½dh·a — the seed's h/2 + (h/2).detach() on each factor. Relevance is
/// conserved: a·da + b·db = h·dh, shared equally.
/// </summary>
public static class HalfRule
{
    public static void Backward(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> dh, Span<float> da, Span<float> db)
    {
        TensorPrimitives.Multiply(dh, b, da);
        TensorPrimitives.Multiply(dh, a, db);
        TensorPrimitives.Multiply(da, 0.5f, da);
        TensorPrimitives.Multiply(db, 0.5f, db);
    }
}
