namespace RelpSae.Lrp;

/// <summary>
/// The backward of a gated MLP's product h = a ⊙ b (a = act(gate), b = up): writes da and db from dh,
/// by the product rule or the Half-rule.
/// </summary>
public delegate void ProductBackward(ReadOnlySpan<float> a, ReadOnlySpan<float> b, ReadOnlySpan<float> dh, Span<float> da, Span<float> db);
