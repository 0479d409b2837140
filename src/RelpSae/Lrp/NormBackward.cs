namespace RelpSae.Lrp;

/// <summary>
/// The backward of one row of a norm (LayerNorm or RMSNorm), accumulating into dx: the norm's exact
/// gradient or the LN-rule. The forward kept x̂ and the row's scale (1/σ or 1/rms); scratch holds d floats.
/// </summary>
public delegate void NormBackward(ReadOnlySpan<float> g, ReadOnlySpan<float> xhat, float rstd, ReadOnlySpan<float> gamma, Span<float> dx, Span<float> scratch);
