namespace RelpSae.Lrp;

/// <summary>
/// What a family states about the operations a rule can replace: its norm (the kind, so the LN-rule takes the
/// right form, and its exact gradient), its activation's exact derivative, its gated product's (none without a
/// gated MLP) and its logits' soft-cap slope (none without a cap). <see cref="BackwardFunctions.Resolve"/> then
/// picks the rule or the exact gradient for each.
/// </summary>
public sealed record ExactGradients(NormKind NormKind, NormBackward Norm, ElementwiseBackward Activation,
    ProductBackward? Product = null, ElementwiseBackward? LogitCap = null);
