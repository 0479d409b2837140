namespace RelpSae.Interventions;

/// <summary>
/// The interventions at one hook applied, in place, to an activation [rows × d] there and its features [rows × d_sae]
/// (<see cref="FeatureInterventions.At"/>).
/// </summary>
public delegate void FeatureEdit(Span<float> activation, Span<float> features);
