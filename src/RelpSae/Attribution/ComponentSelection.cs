using RelpSae.Model;

namespace RelpSae.Attribution;

/// <summary>
/// Which (component type, layer) pairs are patched: every type of every block by default, or a comma list
/// of types (resid_pre, attn_out, mlp_out, head) and hook names (blocks.L.hook_resid_pre,
/// blocks.L.hook_attn_out, blocks.L.hook_mlp_out, blocks.L.attn.hook_z for all of block L's heads).
/// </summary>
public sealed class ComponentSelection
{
    private readonly SortedSet<(ComponentKind Kind, int Layer)> chosen;

    private ComponentSelection(IEnumerable<(ComponentKind, int)> pairs) => chosen = [.. pairs];

    public static ComponentSelection All(ModelFacts c) =>
        new(Component.Kinds.SelectMany(k => Enumerable.Range(0, c.NLayers).Select(l => (k, l))));

    public static ComponentSelection Parse(string? text, ModelFacts c)
    {
        if (text is null) return All(c);
        var pairs = new List<(ComponentKind, int)>();
        foreach (var item in text.Split(',', StringSplitOptions.TrimEntries | StringSplitOptions.RemoveEmptyEntries))
        {
            var type = Component.Kinds.Where(k => Component.TypeName(k) == item).ToList();
            if (type.Count == 1)
            {
                pairs.AddRange(Enumerable.Range(0, c.NLayers).Select(l => (type[0], l)));
                continue;
            }
            if (!item.StartsWith("blocks.", StringComparison.Ordinal))
                throw new SettingException(name => $"the model has no component \"{item}\" in {name(Setting.Components)}: use resid_pre, attn_out, mlp_out, head or hook names blocks.L.hook_resid_pre|hook_attn_out|hook_mlp_out|attn.hook_z");
            var hook = c.ParseHook(item);
            var kind = Component.Kinds.Where(k => Component.HookKindOf(k) == hook.Kind).ToList();
            if (kind.Count == 0)
                throw new SettingException(name => $"{hook} in {name(Setting.Components)} is not a patched component: use hook_resid_pre, hook_attn_out, hook_mlp_out or attn.hook_z");
            pairs.Add((kind[0], hook.Layer));
        }
        if (pairs.Count == 0) throw new SettingException(name => $"{name(Setting.Components)} is empty");
        return new ComponentSelection(pairs);
    }

    public bool Contains(ComponentKind kind, int layer) => chosen.Contains((kind, layer));

    /// <summary>The hooks whose coefficients the chosen components read (a head's is hook_z).</summary>
    public IEnumerable<HookPoint> Hooks => chosen.Select(p => new HookPoint(Component.HookKindOf(p.Kind), p.Layer));

    /// <summary>Every chosen component at every position of a prompt of <paramref name="tokens"/> tokens.</summary>
    public Component[] Enumerate(int tokens, ModelFacts c)
    {
        var list = new List<Component>();
        foreach (var (kind, layer) in chosen)
            for (int t = 0; t < tokens; t++)
                if (kind == ComponentKind.Head)
                    for (int h = 0; h < c.NHeads; h++) list.Add(new Component(kind, layer, t, h));
                else list.Add(new Component(kind, layer, t));
        return [.. list];
    }
}
