namespace RelpSae.Model;

/// <summary>
/// The kinds of hook point, in the order a block passes them. Around the MLP: <see cref="MlpResidualIn"/> is TransformerLens'
/// hook_mlp_in (the residual the branch reads), <see cref="Ln2Normalized"/> its ln2.hook_normalized (x̂, before the norm's
/// scale and bias), <see cref="MlpHookIn"/> and <see cref="MlpHookOut"/> circuit-tracer's mlp.hook_in / mlp.hook_out (what the
/// MLP reads, after the norm's scale; what it returns, before Gemma's post-feedforward norm), <see cref="MlpOut"/> what the
/// branch adds to the residual stream.
/// </summary>
public enum HookKind { Embed, PosEmbed, ResidPre, AttnPattern, AttnZ, AttnOut, ResidMid, MlpResidualIn, Ln2Normalized, MlpHookIn, MlpPost, MlpHookOut, MlpOut, ResidPost, LnFinal }

/// <summary>
/// A named activation, with TransformerLens' names (blocks.6.hook_resid_pre, blocks.2.attn.hook_pattern, ...)
/// so that hooks, SAEs and habits move between the two.
/// </summary>
public readonly record struct HookPoint(HookKind Kind, int Layer)
{
    private static readonly (HookKind Kind, string Suffix)[] BlockHooks =
    [
        (HookKind.ResidPre, "hook_resid_pre"), (HookKind.AttnPattern, "attn.hook_pattern"), (HookKind.AttnZ, "attn.hook_z"),
        (HookKind.AttnOut, "hook_attn_out"), (HookKind.ResidMid, "hook_resid_mid"), (HookKind.MlpResidualIn, "hook_mlp_in"),
        (HookKind.Ln2Normalized, "ln2.hook_normalized"), (HookKind.MlpHookIn, "mlp.hook_in"), (HookKind.MlpPost, "mlp.hook_post"),
        (HookKind.MlpHookOut, "mlp.hook_out"), (HookKind.MlpOut, "hook_mlp_out"), (HookKind.ResidPost, "hook_resid_post"),
    ];

    public string Name => NameOf(Kind, Layer);

    private static string NameOf(HookKind kind, int layer) => kind switch
    {
        HookKind.Embed => "hook_embed",
        HookKind.PosEmbed => "hook_pos_embed",
        HookKind.LnFinal => "ln_final.hook_normalized",
        _ => $"blocks.{layer}.{BlockHooks.First(h => h.Kind == kind).Suffix}",
    };

    public override string ToString() => Name;

    /// <summary>True for the residual-stream hooks a partial forward can restart from and an SAE can be spliced into.</summary>
    public bool IsResidual => Kind is HookKind.ResidPre or HookKind.ResidMid or HookKind.ResidPost;

    /// <summary>Where a forward pass restarting from this residual hook begins: the block, and whether only its MLP half runs.</summary>
    internal (int Layer, bool MlpOnly) Restart => Kind switch
    {
        HookKind.ResidPre => (Layer, false),
        HookKind.ResidMid => (Layer, true),
        _ => (Layer + 1, false),
    };
}
