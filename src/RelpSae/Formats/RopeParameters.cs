using System.Text.Json;

namespace RelpSae.Formats;

/// <summary>
/// transformers 5 writes a config's rotary settings in one <c>rope_parameters</c> object, in place of
/// transformers 4's <c>rope_theta</c> and <c>rope_scaling</c>: flat (<c>{"rope_type", "rope_theta", factor…}</c>) or, where
/// layers differ, one object per layer type (Gemma 3's <c>sliding_attention</c> and <c>full_attention</c>). This maps
/// either back onto the keys the families read: rope_theta, rope_scaling (unless the type is "default"), and Gemma 3's
/// rope_local_base_freq from its sliding layers' object (which must be unscaled, as transformers 4 could only write it).
/// </summary>
public static class RopeParameters
{
    public static ConfigJson AsRopeScaling(ConfigJson json)
    {
        if (!json.Has("rope_parameters")) return json;
        var p = json.Section("rope_parameters");
        var keys = new Dictionary<string, JsonElement?>();
        if (p.Written("full_attention") || p.Written("sliding_attention"))
        {
            if (p.Keys.FirstOrDefault(k => k is not ("full_attention" or "sliding_attention")) is { } other)
                throw p.Error(other, "is set beside per-layer-type objects; expected full_attention and sliding_attention only");
            Flat(p.Section("full_attention"), keys);
            if (p.Has("sliding_attention"))
            {
                var sliding = p.Section("sliding_attention");
                if (Type(sliding) != "default") throw sliding.Error("rope_type", $"is '{Type(sliding)}'; the sliding layers' rotation must be unscaled");
                keys["rope_local_base_freq"] = sliding.Raw("rope_theta");
            }
        }
        else Flat(p, keys);
        keys["rope_parameters"] = null;
        return json.WithKeys(keys);
    }

    /// <summary>One object's rope_theta, and rope_scaling as the object itself when its type scales.</summary>
    private static void Flat(ConfigJson p, Dictionary<string, JsonElement?> keys)
    {
        keys["rope_theta"] = p.Raw("rope_theta");
        keys["rope_scaling"] = Type(p) == "default" ? null : p.Self;
    }

    private static string Type(ConfigJson p) => p.Has("rope_type") ? p.String("rope_type") : p.String("type", "default");
}
