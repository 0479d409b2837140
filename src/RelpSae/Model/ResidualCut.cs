namespace RelpSae.Model;

/// <summary>
/// Where a seeded backward pass stops at the residual stream: at the hook_resid_post of each block in
/// <see cref="Blocks"/> the gradient arriving from above is recorded (as that block's hook_mlp_out coefficient, which is
/// resid_post's) and then dropped, so nothing passes below it; seeds entering at that hook start afresh there. An
/// attribution graph over residual-stream SAEs cuts at every spliced hook: its features and error node stand in for
/// all that lies below.
/// </summary>
public sealed record ResidualCut(IReadOnlyList<int> Blocks);
