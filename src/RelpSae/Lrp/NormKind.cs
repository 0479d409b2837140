namespace RelpSae.Lrp;

/// <summary>Which norm a family's blocks use, so that the LN-rule takes its form: LayerNorm (centred) or RMSNorm.</summary>
public enum NormKind { LayerNorm, RmsNorm }
