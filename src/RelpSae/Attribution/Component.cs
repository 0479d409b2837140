using System.Text.RegularExpressions;
using RelpSae.Model;

namespace RelpSae.Attribution;

/// <summary>The component types of the RelP paper's Table 1: residual stream, attention output, MLP output, one head.</summary>
public enum ComponentKind { ResidPre, AttnOut, MlpOut, Head }

/// <summary>
/// One patchable component at one position: blocks.L.hook_resid_pre / hook_attn_out / hook_mlp_out, or
/// head h's d_head-wide slice of blocks.L.attn.hook_z (which reaches the residual stream through W_O).
/// Under grouped-query attention a head is a query head: its own slice of z, though it shares its keys
/// and values with the other query heads of its group.
/// </summary>
public readonly partial record struct Component(ComponentKind Kind, int Layer, int Position, int Head = -1)
{
    public static readonly IReadOnlyList<ComponentKind> Kinds = [ComponentKind.ResidPre, ComponentKind.AttnOut, ComponentKind.MlpOut, ComponentKind.Head];

    /// <summary>The type's name in outputs: resid_pre, attn_out, mlp_out, head.</summary>
    public static string TypeName(ComponentKind kind) => kind switch
    {
        ComponentKind.ResidPre => "resid_pre",
        ComponentKind.AttnOut => "attn_out",
        ComponentKind.MlpOut => "mlp_out",
        _ => "head",
    };

    public static HookKind HookKindOf(ComponentKind kind) => kind switch
    {
        ComponentKind.ResidPre => HookKind.ResidPre,
        ComponentKind.AttnOut => HookKind.AttnOut,
        ComponentKind.MlpOut => HookKind.MlpOut,
        _ => HookKind.AttnZ,
    };

    public HookPoint Hook => new(HookKindOf(Kind), Layer);

    /// <summary>First column of the component in its hook's row (a head's slice of hook_z).</summary>
    public int Column(ModelFacts c) => Kind == ComponentKind.Head ? Head * c.DHead : 0;

    public int Width(ModelFacts c) => Kind == ComponentKind.Head ? c.DHead : c.DModel;

    /// <summary>Where the component's values start in its hook's activation [tokens × width] (no component hook's width depends on the tokens).</summary>
    public int Offset(ModelFacts c) => Position * c.Width(Hook, tokens: 1) + Column(c);

    /// <summary>"blocks.2.hook_mlp_out@5", "blocks.1.attn.hook_z[3]@5": the hook, the head, the position.</summary>
    public override string ToString() => $"{Hook.Name}{(Kind == ComponentKind.Head ? $"[{Head}]" : "")}@{Position}";

    public static Component Parse(string text)
    {
        var m = Pattern().Match(text);
        if (!m.Success) throw new FormatException($"\"{text}\" is not a component (blocks.L.hook_NAME@POSITION or blocks.L.attn.hook_z[H]@POSITION)");
        var kind = m.Groups[2].Value switch
        {
            "hook_resid_pre" => ComponentKind.ResidPre,
            "hook_attn_out" => ComponentKind.AttnOut,
            "hook_mlp_out" => ComponentKind.MlpOut,
            _ => ComponentKind.Head,
        };
        return new Component(kind, int.Parse(m.Groups[1].Value), int.Parse(m.Groups[4].Value),
            kind == ComponentKind.Head ? int.Parse(m.Groups[3].Value) : -1);
    }

    [GeneratedRegex(@"^blocks\.(\d+)\.(hook_resid_pre|hook_attn_out|hook_mlp_out|attn\.hook_z\[(\d+)\])@(\d+)$")]
    private static partial Regex Pattern();
}
