namespace RelpSae.Interventions;

/// <summary>What a <see cref="FeatureIntervention"/> does to its feature.</summary>
public enum InterventionKind
{
    /// <summary>Add Value·W_dec[feature] to the activation: the feature's activation grows by Value.</summary>
    Steer,
    /// <summary>Set the feature's activation to Value, the error node held: the activation changes by (Value − f)·W_dec[feature].</summary>
    Clamp,
    /// <summary>Clamp to 0.</summary>
    Ablate,
}
