using RelpSae.Formats;

namespace RelpSae.Model;

/// <summary>
/// Llama 3.1's rotary scaling (config.json's rope_scaling with rope_type, or the legacy type, "llama3"; Hugging Face's
/// _compute_llama3_parameters): a frequency whose wavelength 2π/f is longer than original_max_position_embeddings /
/// low_freq_factor is divided by factor, one shorter than original_max_position_embeddings / high_freq_factor is kept,
/// and one between is interpolated, f·((1 − s)/factor + s) with s = (original_max/wavelength − low) / (high − low).
/// </summary>
public sealed record Llama3RopeScaling(float Factor, float LowFreqFactor, float HighFreqFactor, int OriginalContext)
{
    /// <summary>The config's rope_scaling (null when absent); any other type is refused naming the key, as is each value out of range.</summary>
    public static Llama3RopeScaling? Parse(ConfigJson json)
    {
        if (!json.Has("rope_scaling")) return null;
        var s = json.Section("rope_scaling");
        string type = s.Has("rope_type") ? s.String("rope_type") : s.String("type", "(none)");
        if (type != "llama3") throw json.Error("rope_scaling", $"type '{type}' is not supported; scaled rotary embeddings run llama3 only");
        float low = (float)s.PositiveFloat32("low_freq_factor"), high = (float)s.PositiveFloat32("high_freq_factor");
        // At high = low the interpolation divides by zero.
        if (high <= low) throw s.Error("high_freq_factor", $"{high} is not above low_freq_factor {low}");
        return new((float)s.PositiveFloat32("factor", min: 1), low, high, s.Positive("original_max_position_embeddings"));
    }

    /// <summary>The scaled inverse frequency, in float32 as Hugging Face's tensors compute it.</summary>
    public float Scale(float invFreq)
    {
        float wavelength = 1f / invFreq * (float)(2 * Math.PI);
        if (wavelength > (double)OriginalContext / LowFreqFactor) return invFreq / Factor;
        if (wavelength < (double)OriginalContext / HighFreqFactor) return invFreq;
        float smooth = (1f / wavelength * OriginalContext - LowFreqFactor) / (float)((double)HighFreqFactor - LowFreqFactor);
        return (1 - smooth) * invFreq / Factor + smooth * invFreq;
    }
}
