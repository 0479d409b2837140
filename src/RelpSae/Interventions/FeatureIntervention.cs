using System.Globalization;

namespace RelpSae.Interventions;

/// <summary>
/// One change to one dictionary feature at every position of a run (<see cref="FeatureInterventions"/>). <see cref="Hook"/> is
/// the dictionary's hook name as TransformerLens writes it (a transcoder's output hook); <see cref="Value"/> is unused by
/// <see cref="InterventionKind.Ablate"/>.
/// </summary>
public sealed record FeatureIntervention(InterventionKind Kind, string Hook, int Feature, float Value = 0)
{
    public static FeatureIntervention Steer(string hook, int feature, float value) => new(InterventionKind.Steer, hook, feature, value);
    public static FeatureIntervention Clamp(string hook, int feature, float value) => new(InterventionKind.Clamp, hook, feature, value);
    public static FeatureIntervention Ablate(string hook, int feature) => new(InterventionKind.Ablate, hook, feature);

    /// <summary>The activation the feature is set to: Value when clamped, 0 when ablated; null when steered.</summary>
    public float? Target => Kind switch { InterventionKind.Clamp => Value, InterventionKind.Ablate => 0f, _ => null };

    /// <summary>Who decides this intervention, for errors about it.</summary>
    public Setting Setting => Kind switch { InterventionKind.Steer => Setting.Steer, InterventionKind.Clamp => Setting.Clamp, _ => Setting.Ablate };

    /// <summary>HOOK:FEATURE=VALUE (HOOK:FEATURE when ablated), the value written so that it reads back the same.</summary>
    public string Spec => Kind == InterventionKind.Ablate ? $"{Hook}:{Feature}" : $"{Hook}:{Feature}={Value.ToString("R", CultureInfo.InvariantCulture)}";

    public override string ToString() => $"{Kind.ToString().ToLowerInvariant()} {Spec}";
}
