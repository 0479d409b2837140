namespace RelpSae.Model;

/// <summary>
/// A vector put in as the gradient at one row of one sequence of a batch, for a backward pass seeded by many targets at
/// once (an attribution graph's rows): at the final norm's output (ln_final.hook_normalized: a logit's direction), or at
/// an MLP's input (hook_resid_mid, hook_mlp_in, ln2.hook_normalized or mlp.hook_in; hook_resid_pre with parallel
/// attention: a transcoder feature's encoder row), or at a block's hook_resid_post (a residual-stream SAE feature's encoder
/// row, entering before that block's MLP and attention). Hooks after the MLP's pre-norm pass through it as the pass's rules say.
/// </summary>
public sealed record GradientSeed(int Sequence, HookPoint Hook, int Position, float[] Vector);

/// <summary>A transcoder's skip connection at block <see cref="Layer"/>: it adds x·W_skipᵀ to the MLP's output, x read at <see cref="Input"/>.</summary>
public sealed record MlpSkip(int Layer, HookPoint Input, float[] Weight);
