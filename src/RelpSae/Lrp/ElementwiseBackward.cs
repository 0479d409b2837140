namespace RelpSae.Lrp;

/// <summary>
/// The backward of an elementwise map post = f(u) (an MLP's activation: GELU, exact GELU, SiLU; Gemma-2's
/// logit soft-cap): du = f(u, post, g), its exact derivative or the Identity-rule.
/// </summary>
public delegate void ElementwiseBackward(ReadOnlySpan<float> u, ReadOnlySpan<float> post, ReadOnlySpan<float> g, Span<float> du);
