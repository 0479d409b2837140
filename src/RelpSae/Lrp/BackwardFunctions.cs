namespace RelpSae.Lrp;

/// <summary>
/// The functions one backward pass calls where a rule may stand in: for each operation, the rule the
/// <see cref="PropagationRules"/> put in force or else the family's exact gradient (<see cref="ExactGradients"/>).
/// Resolved once per pass, in this one place for every family.
/// </summary>
public sealed record BackwardFunctions(NormBackward Norm, ElementwiseBackward Activation, ProductBackward? Product, AttentionShares Attention,
    ElementwiseBackward? LogitCap, bool CutMlp = false)
{
    /// <summary>
    /// LN-rule → the norm's rule (<see cref="LayerNormRule"/> or <see cref="RmsNormRule"/>); Identity-rule → the
    /// activation and the logit cap; Half-rule → the gated product (nothing to act on without one); AH-rule or
    /// half-attn → the attention's shares; a cut MLP passes nothing (each family's MLP backward returns at once).
    /// </summary>
    public static BackwardFunctions Resolve(PropagationRules rules, ExactGradients exact) => new(
        rules.LayerNorm ? exact.NormKind == NormKind.RmsNorm ? RmsNormRule.Backward : LayerNormRule.Backward : exact.Norm,
        rules.Identity ? IdentityRule.Backward : exact.Activation,
        rules.Half && exact.Product is not null ? HalfRule.Backward : exact.Product,
        rules.Attention,
        rules.Identity && exact.LogitCap is not null ? IdentityRule.Backward : exact.LogitCap,
        rules.CutMlp);
}
