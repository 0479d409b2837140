namespace RelpSae.Model;

/// <summary>
/// What one backward pass leaves at every component it passes (each [rows × d], null for layers before
/// the pass's start): the coefficient at blocks.L.hook_resid_pre, at hook_attn_out (the gradient at
/// resid_mid), at hook_mlp_out (the gradient at resid_post) and at attn.hook_z (dz = d(attn_out)·W_Oᵀ,
/// head h in columns h·d_head ..). Exact gradients or rule-modified ones, as the pass's rules say.
/// </summary>
public sealed class ComponentGradients(int layers)
{
    public float[]?[] ResidPre { get; } = new float[]?[layers];
    public float[]?[] AttnOut { get; } = new float[]?[layers];
    public float[]?[] MlpOut { get; } = new float[]?[layers];
    public float[]?[] Z { get; } = new float[]?[layers];

    /// <summary>The coefficients at a component hook (hook_resid_pre, hook_attn_out, hook_mlp_out, attn.hook_z).</summary>
    public float[] At(HookPoint hook) => (hook.Kind switch
    {
        HookKind.ResidPre => ResidPre,
        HookKind.AttnOut => AttnOut,
        HookKind.MlpOut => MlpOut,
        HookKind.AttnZ => Z,
        _ => throw new RelpSaeException($"{hook} is not a component hook (hook_resid_pre, hook_attn_out, hook_mlp_out, attn.hook_z)"),
    })[hook.Layer] ?? throw new InvalidOperationException($"the backward pass did not reach {hook}");

    /// <summary>Copies the first <paramref name="length"/> values of a gradient buffer into a slot, as the pass goes by.</summary>
    internal static void Record(float[]?[] slot, int layer, float[] values, int length) =>
        values.AsSpan(0, length).CopyTo(slot[layer] ??= new float[length]);
}
